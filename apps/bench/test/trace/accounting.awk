# Independent accounting of a modern ftrace page-allocator trace (hex pfns, no splits).
function hex(s,   v, k, c) { v = 0; s = tolower(substr(s, 3)); for (k = 1; k <= length(s); k++) { c = index("0123456789abcdef", substr(s, k, 1)) - 1; v = v * 16 + c } return v }
{
  for (i = 1; i <= NF; i++) if ($i ~ /^(mm_page_[a-z_]+|tracing_mark_write):$/) { ev = substr($i, 1, length($i) - 1); break }
  if (i > NF) next
  n[ev]++
  if (ev == "tracing_mark_write" && $(i+1) == "PHASE") { ph = $(i+2); order_ph[++nph] = ph }
  if (ev != "mm_page_alloc" && ev != "mm_page_free") next
  pfn = ""; ord = ""
  for (j = i + 1; j <= NF; j++) { if ($j ~ /^pfn=/) pfn = hex(substr($j, 5)); if ($j ~ /^order=/) ord = substr($j, 7) + 0 }
  if (ev == "mm_page_alloc") { byord[ord]++; live[pfn] = ord; lp += 2^ord; la++; if (lp > peak) peak = lp; pa[ph]++; pap[ph] += 2^ord }
  else if (pfn in live) { lp -= 2^live[pfn]; la--; delete live[pfn]; matched++; pf[ph]++ }
  else { unmatched++; pu[ph]++ }
}
END {
  for (e in n) print e, n[e]
  for (o in byord) print "order", o, byord[o]
  print "matched", matched, "unmatched", unmatched, "liveAllocs", la, "livePages", lp, "peak", peak
  for (k = 0; k <= nph; k++) { p = order_ph[k]; print "phase", (p == "" ? "(none)" : p), pa[p] + 0, pap[p] + 0, pf[p] + 0, pu[p] + 0 }
}
