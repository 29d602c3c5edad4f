// Choosing nights on the calendar: the first free night tapped, then the last one, opens the
// new-reservation (or block) form with the unit and dates filled in. Without JavaScript each free
// night is still a link to a one-night booking form.
(function () {
  "use strict";
  var grid = document.getElementById("grilla");
  var panel = document.getElementById("seleccion");
  if (!grid || !panel) { return; }
  var text = document.getElementById("seleccion-texto");
  var book = document.getElementById("seleccion-reservar");
  var block = document.getElementById("seleccion-bloquear");
  var start = null;  // the first night's link

  function plusOneDay(iso) {
    var d = new Date(iso + "T12:00:00Z");
    d.setUTCDate(d.getUTCDate() + 1);
    return d.toISOString().slice(0, 10);
  }
  function label(iso) {
    var parts = iso.split("-");
    return Number(parts[2]) + "/" + Number(parts[1]);
  }
  function clear() {
    grid.querySelectorAll(".elegida").forEach(function (el) { el.classList.remove("elegida"); });
    start = null;
    panel.hidden = true;
  }
  // The free nights of one row from `first` to `last`, or null when a stay sits in between.
  function run(row, first, last) {
    var links = Array.prototype.slice.call(row.querySelectorAll("td"));
    var out = [];
    var inside = false;
    for (var i = 0; i < links.length; i++) {
      var a = links[i].querySelector("a.dia-libre");
      if (a === first) { inside = true; }
      if (inside) {
        if (!a) { return null; }
        out.push(a);
      }
      if (a === last) { return out; }
    }
    return null;
  }
  function offer(row, nights) {
    var unit = row.getAttribute("data-unidad");
    var entrada = nights[0].getAttribute("data-fecha");
    var salida = plusOneDay(nights[nights.length - 1].getAttribute("data-fecha"));
    nights.forEach(function (a) { a.parentNode.classList.add("elegida"); });
    var query = "?unidad=" + unit + "&entrada=" + entrada + "&salida=" + salida;
    book.href = book.getAttribute("data-base") + query;
    block.href = block.getAttribute("data-base") + query;
    text.textContent = row.querySelector("th").textContent + ": del " + label(entrada) + " al " +
      label(salida) + " (" + nights.length + (nights.length === 1 ? " noche)" : " noches)");
    panel.hidden = false;
  }

  book.setAttribute("data-base", grid.getAttribute("data-nueva"));
  block.setAttribute("data-base", grid.getAttribute("data-bloqueo"));
  document.getElementById("seleccion-cancelar").addEventListener("click", clear);
  grid.addEventListener("click", function (event) {
    var a = event.target.closest("a.dia-libre");
    if (!a) { return; }
    event.preventDefault();
    var row = a.closest("tr");
    if (start && start.closest("tr") === row && start.getAttribute("data-fecha") <= a.getAttribute("data-fecha")) {
      var nights = run(row, start, a);
      if (nights) {
        clear();
        offer(row, nights);
        return;
      }
    }
    clear();
    start = a;
    a.parentNode.classList.add("elegida");
    offer(row, [a]);
    text.textContent += ". Tocá la última noche para elegir más.";
  });
}());
