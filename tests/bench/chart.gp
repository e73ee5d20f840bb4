# chart.gp: clustered bars of median ms per runtime per scenario.
# gnuplot -e "datafile='chart.dat'; outfile='chart.png'; charttitle='...'" chart.gp
# chart.dat: "label" casco runc crun "casco/crun ratio"  (one line per scenario, ? = missing)
set terminal pngcairo size 1400,720 font "DejaVu Sans,11" noenhanced
set output outfile
set datafile missing "?"
stats datafile using 0 nooutput
rows = STATS_records
set title charttitle font ",13"
set style data histogram
set style histogram clustered gap 1.2
set style fill solid 0.9 border rgb "#333333"
set boxwidth 0.9
set xrange [-0.6:rows - 0.4]
set ylabel "median ms (lower is better)"
set yrange [0:*]
set grid ytics lc rgb "#dddddd"
set key top left reverse Left
set xtics nomirror scale 0 font ",10"
set ytics nomirror
set border 3
set bmargin 4.5
set offsets 0, 0, graph 0.08, 0
plot datafile using 2:xtic(strcol(1)."\n".strcol(5)) title "casco" lc rgb "#d95f02", \
     ''       using 3 title "runc" lc rgb "#7570b3", \
     ''       using 4 title "crun" lc rgb "#1b9e77", \
     ''       using ($0 - 0.3):2:(sprintf("%.1f", $2)) with labels offset 0,0.7 font ",8" notitle, \
     ''       using ($0):3:(sprintf("%.1f", $3)) with labels offset 0,0.7 font ",8" notitle, \
     ''       using ($0 + 0.3):4:(sprintf("%.1f", $4)) with labels offset 0,0.7 font ",8" notitle
