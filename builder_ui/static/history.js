// Refuse a too-large package before uploading it; the server refuses it again either way.
document.addEventListener("DOMContentLoaded", () => {
  for (const form of document.querySelectorAll("form.package-upload")) {
    const input = form.querySelector('input[type="file"]');
    const error = form.querySelector("[data-upload-error]");
    const limit = Number(form.dataset.maxBytes);
    const tooLarge = () => input.files.length > 0 && input.files[0].size > limit;
    input.addEventListener("change", () => { error.hidden = !tooLarge(); });
    form.addEventListener("submit", (event) => {
      if (tooLarge()) { event.preventDefault(); error.hidden = false; input.focus(); }
    });
  }
});
