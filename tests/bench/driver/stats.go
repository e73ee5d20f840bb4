package main

import (
	"math"
	"sort"
)

func median(xs []float64) float64 {
	if len(xs) == 0 {
		return math.NaN()
	}
	s := append([]float64(nil), xs...)
	sort.Float64s(s)
	n := len(s)
	if n%2 == 1 {
		return s[n/2]
	}
	return (s[n/2-1] + s[n/2]) / 2
}

func minimum(xs []float64) float64 {
	if len(xs) == 0 {
		return math.NaN()
	}
	m := xs[0]
	for _, x := range xs[1:] {
		m = math.Min(m, x)
	}
	return m
}

func flatten(rounds [][]float64) []float64 {
	var all []float64
	for _, r := range rounds {
		all = append(all, r...)
	}
	return all
}

// roundRatios divides a's median by b's median within each round that both
// measured: the two ran minutes apart at most, under the same load.
func roundRatios(a, b [][]float64) []float64 {
	var out []float64
	for i := 0; i < len(a) && i < len(b); i++ {
		if len(a[i]) == 0 || len(b[i]) == 0 {
			continue
		}
		out = append(out, median(a[i])/median(b[i]))
	}
	return out
}

func ms(d interface{ Seconds() float64 }) float64 { return d.Seconds() * 1000 }
