// What the article shows, measured in the page's current colour scheme (tests/site/test_browser.py
// evaluates this function with the smallest contrast ratio it accepts). It returns what falls
// short, as readable strings:
// * printed text in cell outputs (streams, tables, reprs): its colour against the backdrop it
//   is drawn on, the ancestors' backgrounds composited from the page down;
// * figures with a transparent background (matplotlib's inline figures are): their darkest
//   ink, which is where matplotlib draws text, ticks and axes, against what shows through the
//   transparent pixels (the image's own background, under its CSS filter, over the backdrop).
(minimum) => {
  const rgba = (css) => {
    const parts = css.match(/rgba?\(([^)]*)\)/);
    if (!parts) throw new Error(`cannot read the colour ${css}`);
    const [r, g, b, a = 1] = parts[1].split(/[ ,/]+/).filter(Boolean).map(Number);
    return [r, g, b, a];
  };
  const over = (top, bottom) => {
    const a = top[3];
    return [0, 1, 2].map((i) => top[i] * a + bottom[i] * (1 - a)).concat(1);
  };
  const luminance = (c) => {
    const lin = c.slice(0, 3).map((v) => {
      const s = v / 255;
      return s <= 0.03928 ? s / 12.92 : ((s + 0.055) / 1.055) ** 2.4;
    });
    return 0.2126 * lin[0] + 0.7152 * lin[1] + 0.0722 * lin[2];
  };
  const ratio = (a, b) => {
    const [hi, lo] = [luminance(a), luminance(b)].sort((x, y) => y - x);
    return (hi + 0.05) / (lo + 0.05);
  };
  // The colour behind `element`'s content: the backgrounds from the root down to it.
  const backdrop = (element) => {
    const chain = [];
    for (let e = element; e; e = e.parentElement) chain.unshift(e);
    return chain.reduce(
      (below, e) => over(rgba(getComputedStyle(e).backgroundColor), below),
      [255, 255, 255, 1],
    );
  };
  // brightness() and contrast() of a CSS filter (the theme dims images in dark mode).
  const filtered = (colour, filter) => {
    let c = colour.slice(0, 3);
    for (const [, name, amount] of filter.matchAll(/(brightness|contrast)\(([\d.]+)\)/g)) {
      const k = Number(amount);
      c = c.map((v) => (name === "brightness" ? v * k : (v - 127.5) * k + 127.5));
    }
    return c.map((v) => Math.min(255, Math.max(0, v))).concat(colour[3]);
  };
  const shown = (e) => e.checkVisibility({ visibilityProperty: true, opacityProperty: true });
  const short = [];

  const texts = new Set();
  for (const output of document.querySelectorAll("article div.cell_output")) {
    const walker = document.createTreeWalker(output, NodeFilter.SHOW_TEXT);
    for (let node = walker.nextNode(); node; node = walker.nextNode()) {
      if (node.textContent.trim()) texts.add(node.parentElement);
    }
  }
  for (const element of texts) {
    if (!shown(element)) continue;
    const behind = backdrop(element);
    const r = ratio(over(rgba(getComputedStyle(element).color), behind), behind);
    if (r < minimum) {
      const text = element.textContent.trim().slice(0, 60);
      short.push(`text ${r.toFixed(2)}:1 <${element.localName}> "${text}"`);
    }
  }

  for (const img of document.querySelectorAll("article img")) {
    if (!shown(img) || !img.naturalWidth) continue;
    const scale = Math.min(1, 400 / img.naturalWidth);
    const canvas = document.createElement("canvas");
    canvas.width = Math.max(1, Math.round(img.naturalWidth * scale));
    canvas.height = Math.max(1, Math.round(img.naturalHeight * scale));
    const context = canvas.getContext("2d", { willReadFrequently: true });
    context.drawImage(img, 0, 0, canvas.width, canvas.height);
    const pixels = context.getImageData(0, 0, canvas.width, canvas.height).data;
    const style = getComputedStyle(img);
    const through = over(
      filtered(rgba(style.backgroundColor), style.filter),
      backdrop(img.parentElement),
    );
    let transparent = 0;
    let darkest = null;
    for (let i = 0; i < pixels.length; i += 4) {
      if (pixels[i + 3] < 128) {
        transparent += 1;
        continue;
      }
      const ink = [pixels[i], pixels[i + 1], pixels[i + 2], pixels[i + 3] / 255];
      if (!darkest || luminance(ink) < luminance(darkest)) darkest = ink;
    }
    if (!darkest || transparent < pixels.length / 4 / 100) continue; // brings its background
    const ink = over(filtered(darkest, style.filter), through);
    const r = ratio(ink, through);
    if (r < minimum) {
      short.push(`figure ${r.toFixed(2)}:1 ${img.getAttribute("src")}`);
    }
  }
  return short;
}
