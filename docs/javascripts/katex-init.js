// Render the \( \) and \[ \] spans that pymdownx.arithmatex leaves, with the local KaTeX copy.
document$.subscribe(() => {
  renderMathInElement(document.body, {
    delimiters: [
      { left: "\\[", right: "\\]", display: true },
      { left: "\\(", right: "\\)", display: false },
    ],
    throwOnError: true,
  });
});
