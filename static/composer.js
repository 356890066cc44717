// The composer: a live caption count (characters and hashtags against Instagram's limits), and
// suggested times that fill the date and time in place (without script they reload the form
// pre-filled).
(function () {
  document.querySelectorAll("a.slot").forEach(function (link) {
    link.addEventListener("click", function (event) {
      event.preventDefault();
      document.getElementById("date").value = link.dataset.date;
      document.getElementById("time").value = link.dataset.time;
      var at = document.querySelector("input[name=when][value=at]");
      at.checked = true;
      at.focus();
    });
  });

  var caption = document.getElementById("caption");
  var out = document.getElementById("caption-count");
  if (!caption || !out) return;
  var limit = Number(caption.dataset.limit), tagLimit = Number(caption.dataset.tags);
  function update() {
    var text = caption.value;
    var chars = Array.from(text).length;
    var tags = (text.match(/#[\p{L}\p{N}_]/gu) || []).length;
    var over = chars > limit || tags > tagLimit;
    out.textContent = chars + " / " + limit + " characters, " + tags + " / " + tagLimit + " hashtags" +
      (over ? " — over Instagram's limit" : "");
    out.classList.toggle("error", over);
  }
  caption.addEventListener("input", update);
  update();
})();
