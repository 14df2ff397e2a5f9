// Small behaviours that need script. Served as a file (no inline script), so a strict CSP allows it.
document.addEventListener("DOMContentLoaded", () => {
  // On a phone the menu is one row you swipe: start with the current page's link in view.
  const current = document.querySelector(".nav [aria-current='page']");
  if (current && current.parentElement.parentElement.scrollWidth > current.parentElement.parentElement.clientWidth) {
    current.scrollIntoView({ block: "nearest", inline: "center" });
  }
});

// The member's card: a share button sends a link through the phone's share sheet (Web Share API),
// or copies it where there is none (a desktop, or a shop's LAN over plain http). Strings come from
// data attributes so they are translated with the page.
document.addEventListener("click", async (event) => {
  const button = event.target.closest("[data-share]");
  if (!button) return;
  const input = document.querySelector(button.dataset.share);
  const status = button.closest("section")?.querySelector(".share-status");
  const url = input.value;
  if (navigator.share) {
    try {
      await navigator.share({ title: button.dataset.shareTitle, text: button.dataset.shareText, url });
      return;
    } catch (error) {
      if (error.name === "AbortError") return; // the member closed the share sheet
    }
  }
  let copied = false;
  if (navigator.clipboard && window.isSecureContext) {
    copied = await navigator.clipboard.writeText(url).then(() => true, () => false);
  }
  if (!copied) {
    input.select();
    copied = document.execCommand("copy"); // the fallback that still works without https
  }
  if (status) status.textContent = copied ? button.dataset.copied : "";
});

// The counter's search box lists matches as you type, and Enter opens the member whose card number
// it is. A scanner types the number and Enter at once: the as-you-type search of that same text
// (still waiting out its delay, or the "search" event Enter fires) must not come after and replace
// the member with the list again.
let counterSubmitted = null;
document.addEventListener("submit", (event) => {
  if (event.target.id === "counter-search") counterSubmitted = event.target.elements.q.value;
});
document.addEventListener("htmx:confirm", (event) => {
  const box = event.detail.elt;
  if (box.id === "counter-q" && box.value === counterSubmitted) event.preventDefault();
});

// The counter: after a purchase or a reward the cursor goes back to the search box, so the next
// customer's card scan lands there and not in this member's amount field. The text in the box is
// selected whenever it gets the focus: the next scan or name replaces it.
document.addEventListener("htmx:afterSettle", (event) => {
  const search = document.getElementById("counter-q");
  if (search && event.target.querySelector && event.target.querySelector("[data-focus-search]")) {
    search.focus();
    search.select();
  }
});
document.addEventListener("focusin", (event) => {
  if (event.target.id === "counter-q") event.target.select();
});

// Printable pages (the card sheet): a button instead of an inline onclick.
document.addEventListener("click", (event) => {
  if (event.target.closest("[data-print]")) window.print();
});
