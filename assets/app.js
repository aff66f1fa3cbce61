// Copy buttons: put the exact caption text on the clipboard and say so.
// Without JavaScript the caption is still in a selectable text area.
document.addEventListener("click", async (event) => {
  const button = event.target.closest("button.copy");
  if (!button) return;
  const area = document.getElementById(button.dataset.copy);
  if (!area) return;
  const label = button.textContent;
  try {
    await navigator.clipboard.writeText(area.value);
    button.textContent = "Copied";
  } catch (_) {
    area.focus();
    area.select();
    button.textContent = "Press Ctrl+C";
  }
  button.classList.add("copied");
  setTimeout(() => { button.textContent = label; button.classList.remove("copied"); }, 1500);
});
