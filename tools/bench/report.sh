#!/usr/bin/env bash
# report OUTDIR: runs imc_bench and sandbox_bench, then writes OUTDIR/report.md (a Markdown
# table of every row: ours, baseline, ratio, goal) and OUTDIR/ratios.png (a bar chart of the
# ratios, drawn with gnuplot, which ./bazelw installs for this target).
#
#   ./bazelw run -c opt //tools/bench:report -- /tmp/bench-report
#
# Extra arguments after OUTDIR go to both benchmarks (e.g. --reps 5).
set -euo pipefail

if [[ $# -lt 1 || "$1" == "--help" ]]; then
  sed -n '2,8p' "$0" | sed 's/^# \{0,1\}//'
  [[ $# -lt 1 ]] && exit 2 || exit 0
fi
outdir=$1
shift
# `bazel run` starts us in the runfiles tree; a relative OUTDIR means the caller's directory.
if [[ "$outdir" != /* ]]; then
  outdir="${BUILD_WORKING_DIRECTORY:-$PWD}/$outdir"
fi
mkdir -p "$outdir"

# The benchmarks find sel_ldr and their modules in this script's runfiles (they have none of
# their own here): tell them where, as Bazel's runfiles library expects.
export RUNFILES_DIR="${RUNFILES_DIR:-$0.runfiles}"

# gnuplot is the report's declared dependency: `./bazelw run //tools/bench:report` installs it
# (Debian's gnuplot-nox) with the build's other packages.
if ! command -v gnuplot >/dev/null 2>&1; then
  echo "report: gnuplot is missing; run the report with ./bazelw run ... //tools/bench:report," \
    "which installs gnuplot-nox, or install it yourself" >&2
  exit 2
fi

# The project's goals (ratio ours / baseline), from the issues.
goal() {
  case "$1" in
    connect_accept) echo "<= 1.00" ;;
    msg_rtt_64B | msg_rtt_64KiB) echo "<= 1.05" ;;
    msg_1desc_rtt | msg_8desc_rtt) echo "<= 1.10" ;;
    null_syscall) echo "<= 1.20" ;;
    # Issue 12 tightened these.
    module_ping_pong) echo "<= 1.20" ;;
    module_ping_pong_one_cpu) echo "<= 1.50" ;;
    launch_hello) echo "<= 2.50" ;;
    launch_hello_launcher) echo "<= 1.50" ;;
    # Issue 12: sel_ldr plus its module may cost at most 1 MiB of PSS more than the plain
    # process (an overhead in KiB, not a ratio).
    density_pss_per_module) echo "ours - baseline <= 1024" ;;
    *) echo "" ;;
  esac
}

csvs=()
for bench in imc_bench sandbox_bench; do
  binary="$RUNFILES_DIR/${TEST_WORKSPACE:-sel_ldr_imc}/tools/bench/$bench"
  echo "report: running $bench" >&2
  "$binary" --csv "$outdir/$bench.csv" "$@" >"$outdir/$bench.txt"
  csvs+=("$outdir/$bench.csv")
done

{
  echo "# Benchmark report"
  echo
  echo "Generated $(date -u '+%Y-%m-%d %H:%M UTC') on $(nproc) CPUs ($(uname -r))."
  echo "Figures are medians of repeated runs; RATIO = OURS / BASELINE, both measured in the"
  echo "same run with the same CPU placement, so 1.00x means no overhead and lower is better."
  echo
  echo "| benchmark | name | ours | baseline | unit | ratio | goal | met |"
  echo "|---|---|---:|---:|---|---:|---|---|"
  for csv in "${csvs[@]}"; do
    bench=$(basename "$csv" .csv)
    tail -n +2 "$csv" | while IFS=, read -r name unit ours baseline ratio _rest; do
      g=$(goal "$name")
      met=""
      if [[ "$g" == "ours - baseline <= "* ]]; then
        limit=${g#ours - baseline <= }
        met=$(awk -v o="$ours" -v b="$baseline" -v l="$limit" \
          'BEGIN { print (o - b <= l) ? "yes" : "no" }')
      elif [[ -n "$g" ]]; then
        limit=${g#<= }
        met=$(awk -v r="$ratio" -v l="$limit" 'BEGIN { print (r <= l) ? "yes" : "no" }')
      fi
      printf '| %s | %s | %s | %s | %s | %.2fx | %s | %s |\n' "$bench" "$name" "$ours" \
        "$baseline" "$unit" "$ratio" "$g" "$met"
    done
  done
  echo
  echo "![ratios](ratios.png)"
} >"$outdir/report.md"

# One bar per row; a line at 1.0 marks "no overhead".
data="$outdir/ratios.dat"
: >"$data"
for csv in "${csvs[@]}"; do
  tail -n +2 "$csv" | awk -F, '{ printf "\"%s\" %s\n", $1, $5 }' >>"$data"
done
gnuplot <<GNUPLOT
set terminal pngcairo size 1100,520 noenhanced
set output "$outdir/ratios.png"
set title "ours / baseline, log scale (1.0 = no overhead; lower is better, except\npending_connections, a count where higher is better)"
set style fill solid 0.7
set boxwidth 0.6
set logscale y 2
set yrange [0.5:*]
set xtics rotate by -35
set bmargin 9
set rmargin 12
set grid ytics
set offsets graph 0, graph 0, graph 0.08, 0
set key off
plot "$data" using 0:2:xtic(1) with boxes lc rgb "#4477aa", \
     "$data" using 0:2:(sprintf("%.2f", \$2)) with labels offset 0,0.7 font ",9", \
     1 with lines lc rgb "#cc3311" lw 2
GNUPLOT
rm -f "$data"
echo "report: wrote $outdir/report.md and $outdir/ratios.png" >&2
