// Search-as-you-type for a text field holding several codes separated by "；" (catalog lines, regulations).
// The field works as plain text without this script: the server reads codes and names the way the importer does.
// Keyboard: type to search the last entry; Down/Up move through the suggestions; Enter takes one; Escape closes.
(function () {
  "use strict";
  var SEPARATOR = /[;；,，\n]/;

  function lastSeparator(text) {
    for (var i = text.length - 1; i >= 0; i -= 1) {
      if (SEPARATOR.test(text.charAt(i))) { return i; }
    }
    return -1;
  }

  function setup(input) {
    var url = input.getAttribute("data-suggest");
    var emptyText = input.getAttribute("data-empty") || "";
    var list = document.createElement("ul");
    var items = [];
    var active = -1;
    var timer = null;
    var asked = 0;

    list.id = input.id + "-suggestions";
    list.className = "picker-list";
    list.setAttribute("role", "listbox");
    list.hidden = true;
    input.insertAdjacentElement("afterend", list);
    input.setAttribute("role", "combobox");
    input.setAttribute("aria-autocomplete", "list");
    input.setAttribute("aria-expanded", "false");
    input.setAttribute("aria-controls", list.id);
    input.setAttribute("autocomplete", "off");

    function query() {
      var text = input.value.slice(0, input.selectionEnd === undefined ? input.value.length : input.selectionEnd);
      return text.slice(lastSeparator(text) + 1).trim();
    }

    function close() {
      list.hidden = true;
      list.innerHTML = "";
      items = [];
      active = -1;
      input.setAttribute("aria-expanded", "false");
      input.removeAttribute("aria-activedescendant");
    }

    function highlight(index) {
      var options = list.querySelectorAll("[role=option]");
      active = index;
      for (var i = 0; i < options.length; i += 1) {
        options[i].setAttribute("aria-selected", i === index ? "true" : "false");
      }
      if (index >= 0 && options[index]) {
        input.setAttribute("aria-activedescendant", options[index].id);
        options[index].scrollIntoView({block: "nearest"});
      } else {
        input.removeAttribute("aria-activedescendant");
      }
    }

    function choose(index) {
      var item = items[index];
      if (!item) { return; }
      var end = input.selectionEnd === undefined ? input.value.length : input.selectionEnd;
      var before = input.value.slice(0, end);
      var after = input.value.slice(end);
      var head = before.slice(0, lastSeparator(before) + 1);
      var tail = after.replace(/^[^;；,，\n]*[;；,，]?\s*/, "");  // the rest of the entry being replaced
      var middle = (head && !/\s$/.test(head) ? " " : "") + item.value + "；";
      input.value = head + middle + tail;
      input.setSelectionRange(head.length + middle.length, head.length + middle.length);
      close();
      input.dispatchEvent(new Event("change", {bubbles: true}));
    }

    function render(data) {
      list.innerHTML = "";
      items = data;
      active = -1;
      if (!data.length) {
        if (!emptyText) { close(); return; }
        var none = document.createElement("li");
        none.className = "picker-empty";
        none.textContent = emptyText;
        list.appendChild(none);
      }
      data.forEach(function (item, i) {
        var li = document.createElement("li");
        li.id = list.id + "-" + i;
        li.setAttribute("role", "option");
        li.setAttribute("aria-selected", "false");
        li.textContent = item.label;
        li.addEventListener("mousedown", function (event) {
          event.preventDefault();  // keep the focus in the field
          choose(i);
        });
        list.appendChild(li);
      });
      list.hidden = false;
      input.setAttribute("aria-expanded", "true");
    }

    function search() {
      var q = query();
      if (!q) { close(); return; }
      asked += 1;
      var mine = asked;
      fetch(url + "?q=" + encodeURIComponent(q), {credentials: "same-origin", headers: {Accept: "application/json"}})
        .then(function (response) { return response.ok ? response.json() : []; })
        .then(function (data) { if (mine === asked && document.activeElement === input) { render(data); } })
        .catch(function () { close(); });
    }

    input.addEventListener("input", function () {
      window.clearTimeout(timer);
      timer = window.setTimeout(search, 150);
    });
    input.addEventListener("keydown", function (event) {
      var open = !list.hidden && items.length > 0;
      if (event.key === "ArrowDown") {
        event.preventDefault();
        if (open) { highlight((active + 1) % items.length); } else { search(); }
      } else if (event.key === "ArrowUp") {
        if (open) {
          event.preventDefault();
          highlight(active <= 0 ? items.length - 1 : active - 1);
        }
      } else if (event.key === "Enter") {
        if (open && active >= 0) {
          event.preventDefault();  // take the suggestion, do not submit the form
          choose(active);
        }
      } else if (event.key === "Escape") {
        if (!list.hidden) {
          event.preventDefault();
          close();
        }
      } else if (event.key === "Tab") {
        close();
      }
    });
    input.addEventListener("blur", function () { window.setTimeout(close, 100); });
  }

  var fields = document.querySelectorAll("input[data-suggest]");
  for (var i = 0; i < fields.length; i += 1) { setup(fields[i]); }
}());
