# chart.gp: the benchmark's chart, one PNG of five panels.
# gnuplot -e "datadir='DIR'; outfile='chart.png'; charttitle='...'" chart.gp
# DIR holds the driver's data files (`driver bench -dat DIR`):
#   latency.dat, rss.dat: "label" casco runc crun "casco/crun ratio"  (? = missing)
#   par.dat:   loops casco runc crun            (containers per second)
#   scale.dat: containers list-casco list-runc list-crun state-... create-...  (ms)
set terminal pngcairo size 1600,1500 font "DejaVu Sans,10" noenhanced
set output outfile
set datafile missing "?"
set multiplot title charttitle font ",13"

casco = "#d95f02"; runc = "#7570b3"; crun = "#1b9e77"

# --- latency of every command: clustered bars ---
set origin 0, 0.62
set size 1, 0.36
stats datadir."/latency.dat" using 0 nooutput
rows = STATS_records
set title "median ms per command (lower is better); under each: casco/crun" font ",11"
set style data histogram
set style histogram clustered gap 1.2
set style fill solid 0.9 border rgb "#333333"
set boxwidth 0.9
set xrange [-0.6:rows - 0.4]
set yrange [0:*]
set ylabel "ms"
set grid ytics lc rgb "#dddddd"
set key top left reverse Left
set xtics nomirror scale 0 font ",9"
set ytics nomirror
set border 3
set bmargin 4.5
set offsets graph 0.05, graph 0.05, graph 0.08, 0
plot datadir."/latency.dat" using 2:xtic(strcol(1)."\n".strcol(5)) title "casco" lc rgb casco, \
     ''       using 3 title "runc" lc rgb runc, \
     ''       using 4 title "crun" lc rgb crun, \
     ''       using ($0 - 0.3):2:(sprintf("%.1f", $2)) with labels offset 0,0.7 font ",7" notitle, \
     ''       using ($0):3:(sprintf("%.1f", $3)) with labels offset 0,0.7 font ",7" notitle, \
     ''       using ($0 + 0.3):4:(sprintf("%.1f", $4)) with labels offset 0,0.7 font ",7" notitle

# --- peak RSS of every command: clustered bars ---
set origin 0, 0.31
set size 0.62, 0.31
stats datadir."/rss.dat" using 0 nooutput
rows = STATS_records
set title "peak RSS, MiB (wait4 ru_maxrss); under each: casco/crun" font ",11"
set xrange [-0.6:rows - 0.4]
set ylabel "MiB"
set xtics font ",8"
plot datadir."/rss.dat" using 2:xtic(strcol(1)."\n".strcol(5)) title "casco" lc rgb casco, \
     ''       using 3 title "runc" lc rgb runc, \
     ''       using 4 title "crun" lc rgb crun

# --- parallel throughput: lines over the number of loops ---
unset style
set style data linespoints
set origin 0.62, 0.31
set size 0.38, 0.31
set title "parallel run: containers per second (higher is better)" font ",11"
set xrange [*:*]
set autoscale x
set logscale x 2
set xlabel "loops at once"
set ylabel "containers / s"
set xtics font ",9"
set offsets graph 0.05, graph 0.05, graph 0.08, 0
set bmargin 3.5
plot datadir."/par.dat" using 1:2 title "casco" lc rgb casco lw 2 pt 7, \
     ''       using 1:3 title "runc" lc rgb runc lw 2 pt 7, \
     ''       using 1:4 title "crun" lc rgb crun lw 2 pt 7

# --- cost curves: list, state, create over the containers under the root ---
set logscale x 10
set xlabel "containers under the root"
set ylabel "median ms"
set size 0.333, 0.30
set offsets graph 0.05, graph 0.05, graph 0.08, 0
set origin 0, 0
set title "list" font ",11"
plot datadir."/scale.dat" using 1:2 title "casco" lc rgb casco lw 2 pt 7, \
     ''       using 1:3 title "runc" lc rgb runc lw 2 pt 7, \
     ''       using 1:4 title "crun" lc rgb crun lw 2 pt 7
set origin 0.333, 0
set title "state of one container" font ",11"
plot datadir."/scale.dat" using 1:5 title "casco" lc rgb casco lw 2 pt 7, \
     ''       using 1:6 title "runc" lc rgb runc lw 2 pt 7, \
     ''       using 1:7 title "crun" lc rgb crun lw 2 pt 7
set origin 0.666, 0
set title "create one more" font ",11"
plot datadir."/scale.dat" using 1:8 title "casco" lc rgb casco lw 2 pt 7, \
     ''       using 1:9 title "runc" lc rgb runc lw 2 pt 7, \
     ''       using 1:10 title "crun" lc rgb crun lw 2 pt 7

unset multiplot
