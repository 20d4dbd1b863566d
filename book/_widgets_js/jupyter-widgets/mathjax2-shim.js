/* Bridge for ipywidgets 8 on a MathJax 3 page (written for this book; Apache-2.0, like the book's code).
 *
 * The widget bundle (embed.js) typesets widget labels with the MathJax 2 API:
 *   MathJax.Hub.Queue(["Typeset", MathJax.Hub, element])
 * Sphinx loads MathJax 3, which has no `Hub`, so every widget page threw
 * "Cannot read properties of undefined (reading 'Queue')". This file, loaded before embed.js on widget
 * pages only, adds a minimal `MathJax.Hub.Queue` that forwards to MathJax 3's `typesetPromise`.
 * Its load listener is registered before embed.js's, so it runs first.
 */
(function () {
  "use strict";
  function typeset(element) {
    var mj = window.MathJax;
    if (!mj) return;
    var run = function () {
      if (typeof mj.typesetPromise === "function") {
        mj.typesetPromise(element ? [element] : undefined).catch(function () {});
      }
    };
    if (mj.startup && mj.startup.promise) {
      mj.startup.promise.then(run);
    } else {
      run();
    }
  }
  var hub = {
    Queue: function () {
      for (var i = 0; i < arguments.length; i++) {
        var job = arguments[i];
        if (Array.isArray(job) && job[0] === "Typeset") typeset(job[2]);
      }
    },
  };
  function install() {
    if (window.MathJax && !window.MathJax.Hub) window.MathJax.Hub = hub;
  }
  install(); // the configuration object, if MathJax 3 has not replaced it yet
  window.addEventListener("load", install); // the MathJax 3 object itself
})();
