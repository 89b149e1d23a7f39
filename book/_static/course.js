/* The course book's small repairs to sphinx-book-theme's behaviour, for every reader.

   1. The sidebar buttons. pydata-sphinx-theme 0.17 adds its own navigation buttons to the
   top bar, with the same classes (primary-toggle, secondary-toggle) as the buttons that
   sphinx-book-theme puts above the article. Both themes' scripts bind the first button of
   each class, which is the top bar's, hidden by the book theme's CSS; the visible buttons
   did nothing at any width, so on a phone the chapters could not be reached. (Reported
   upstream as pydata-sphinx-theme issue 2451.) Each visible button here passes its click
   on to the bound one: on a wide screen that folds the sidebar away and back, on a narrow
   one it opens the sidebar as a dialog.

   2. Names for the navigation's fold toggles. Each chapter of the left navigation is a link
   followed by a <details> whose <summary> holds only a chevron icon, so a screen reader
   announced a button with no name (axe's rule summary-name). Each summary gets the name
   of the chapter it folds, e.g. "Expand 3. Linear Neural Networks", and the verb follows
   the fold's state.

   The theme binds its buttons before DOMContentLoaded; this file, loaded after the theme's
   scripts, acts on DOMContentLoaded. tests/site/test_browser.py clicks the navigation
   button and runs axe on every page. */
(function () {
  function forwardSidebarButtons() {
    ["primary-toggle", "secondary-toggle"].forEach((kind) => {
      const [bound, ...others] = document.querySelectorAll(`button.${kind}`);
      others.forEach((button) => {
        button.addEventListener("click", (event) => {
          event.preventDefault();
          event.stopPropagation();
          bound.click();
        });
      });
    });
  }

  function nameFoldToggles() {
    document.querySelectorAll("nav li.has-children > details > summary").forEach((summary) => {
      if (summary.textContent.trim()) {
        return; // a caption inside the summary names it already
      }
      const link = summary.closest("li").querySelector(":scope > a");
      if (!link) {
        return;
      }
      const title = link.textContent.trim();
      const details = summary.parentElement;
      const label = () => {
        summary.setAttribute("aria-label", (details.open ? "Collapse " : "Expand ") + title);
      };
      label();
      details.addEventListener("toggle", label);
    });
  }

  // docutils marks each reference of the bibliography role="doc-biblioentry", a role that
  // DPUB-ARIA 1.1 deprecated (axe's rule aria-deprecated-role); its parent has role="list",
  // so each entry becomes what that list needs: a list item.
  function dropDeprecatedRoles() {
    document.querySelectorAll('[role="doc-biblioentry"]').forEach((entry) => {
      entry.setAttribute("role", "listitem");
    });
  }

  function init() {
    forwardSidebarButtons();
    nameFoldToggles();
    dropDeprecatedRoles();
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", init);
  } else {
    init();
  }
})();
