/**
 * The script the HTML report runs to filter its tables section: two `<select>`s (`#filter-suite`,
 * `#filter-system`) hide every table row of another suite or system, a workload heading with no
 * row left under it, and a suite's block when nothing of it is left; `#filter-count` says how many
 * rows show ("37 of 421 rows"). Rows carry `data-system`, suite blocks `data-suite` (see
 * `html.ts`). Plain ES2017 in a string, like the chart script.
 */
export const TABLE_FILTER_SCRIPT = String.raw`(function () {
  "use strict";
  var suiteSelect = document.getElementById("filter-suite");
  var systemSelect = document.getElementById("filter-system");
  var count = document.getElementById("filter-count");
  if (!suiteSelect || !systemSelect || !count) return;
  function apply() {
    var suite = suiteSelect.value, system = systemSelect.value, shown = 0, total = 0;
    Array.prototype.forEach.call(document.querySelectorAll("#tables .suite-block"), function (block) {
      var suiteMatches = suite === "" || block.getAttribute("data-suite") === suite;
      var blockShown = 0, heading = null, headingShown = 0;
      Array.prototype.forEach.call(block.querySelectorAll("tbody tr"), function (row) {
        if (row.classList.contains("workload")) {
          if (heading) heading.hidden = headingShown === 0;
          heading = row;
          headingShown = 0;
          return;
        }
        total++;
        var match = suiteMatches && (system === "" || row.getAttribute("data-system") === system);
        row.hidden = !match;
        if (match) { shown++; headingShown++; blockShown++; }
      });
      if (heading) heading.hidden = headingShown === 0;
      block.hidden = !suiteMatches || (system !== "" && blockShown === 0);
    });
    count.textContent = shown === total ? total + " rows" : shown + " of " + total + " rows";
    document.body.setAttribute("data-rows-shown", String(shown));
  }
  suiteSelect.addEventListener("change", apply);
  systemSelect.addEventListener("change", apply);
  apply();
})();
`;
