package keyspace

import (
	"math/rand/v2"
	"sort"
	"strconv"
	"testing"
)

type zpair struct {
	m string
	s float64
}

// sortedModel is the reference a ZSet must agree with: every member in
// (score, member) order.
func sortedModel(m map[string]float64) []zpair {
	out := make([]zpair, 0, len(m))
	for k, v := range m {
		out = append(out, zpair{k, v})
	}
	sort.Slice(out, func(i, j int) bool { return less(out[i].s, out[i].m, out[j].s, out[j].m) })
	return out
}

// checkZSet verifies order, back links, spans (through ranks) and the dict.
func checkZSet(t *testing.T, z *ZSet, model map[string]float64) {
	t.Helper()
	want := sortedModel(model)
	if z.Len() != len(want) || z.Dict.Len() != len(want) {
		t.Fatalf("len %d dict %d, want %d", z.Len(), z.Dict.Len(), len(want))
	}
	i := 0
	var prev *ZNode
	for n := z.First(); n != nil; n = n.Next() {
		if n.Member != want[i].m || n.Score != want[i].s {
			t.Fatalf("at %d: %q %v, want %q %v", i, n.Member, n.Score, want[i].m, want[i].s)
		}
		if n.Prev() != prev {
			t.Fatalf("bad back link at %d", i)
		}
		if r, ok := z.Rank([]byte(n.Member)); !ok || r != i {
			t.Fatalf("rank of %q = %d %v, want %d", n.Member, r, ok, i)
		}
		if z.ByRank(i) != n {
			t.Fatalf("ByRank(%d) wrong", i)
		}
		if s, ok := z.ScoreOf(n.Member); !ok || s != n.Score {
			t.Fatalf("dict score of %q = %v", n.Member, s)
		}
		prev = n
		i++
	}
	if z.Last() != prev {
		t.Fatalf("tail mismatch")
	}
}

func TestZSetRandomOps(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	z := NewZSet()
	model := map[string]float64{}
	for step := 0; step < 4000; step++ {
		m := "m" + strconv.Itoa(r.IntN(300))
		score := float64(r.IntN(50))
		switch op := r.IntN(10); {
		case op < 6:
			z.Set(m, score)
			model[m] = score
		case op < 8:
			if old, ok := z.ScoreOf(m); ok {
				ns := old + float64(r.IntN(5)) - 2
				z.Update(m, old, ns)
				model[m] = ns
			}
		default:
			_, had := model[m]
			if z.DeleteString(m) != had {
				t.Fatalf("delete %q: presence mismatch", m)
			}
			delete(model, m)
		}
		if step%200 == 0 {
			checkZSet(t, z, model)
		}
	}
	checkZSet(t, z, model)
}

func TestZSetRanges(t *testing.T) {
	z := NewZSet()
	model := map[string]float64{}
	for i := 0; i < 100; i++ {
		m := strconv.Itoa(1000 + i)
		z.Insert(m, float64(i/3))
		model[m] = float64(i / 3)
	}
	cases := []ScoreRange{
		{Min: 5, Max: 10}, {Min: 5, Max: 10, MinEx: true}, {Min: 5, Max: 10, MaxEx: true},
		{Min: -1, Max: 0}, {Min: 40, Max: 100}, {Min: 10, Max: 5}, {Min: 7, Max: 7, MinEx: true},
	}
	for _, rg := range cases {
		var in []zpair
		for _, p := range sortedModel(model) {
			if rg.Contains(p.s) {
				in = append(in, p)
			}
		}
		f, l := z.FirstInRange(rg), z.LastInRange(rg)
		if len(in) == 0 {
			if f != nil || l != nil {
				t.Fatalf("%+v: want empty", rg)
			}
			continue
		}
		if f == nil || l == nil || f.Member != in[0].m || l.Member != in[len(in)-1].m {
			t.Fatalf("%+v: first/last wrong", rg)
		}
		if z.RankOfNode(l)-z.RankOfNode(f)+1 != len(in) {
			t.Fatalf("%+v: count wrong", rg)
		}
	}
	lr := LexRange{Min: LexBound{S: "1010"}, Max: LexBound{S: "1020", Ex: true}}
	if f := z.FirstInLexRange(lr); f == nil || f.Member != "1010" {
		t.Fatalf("lex first: %v", f)
	}
	if n := z.DeleteRangeByScore(ScoreRange{Min: 0, Max: 1}); n != 6 {
		t.Fatalf("deleted %d by score, want 6", n)
	}
	for i := 0; i < 6; i++ {
		delete(model, strconv.Itoa(1000+i))
	}
	checkZSet(t, z, model)
	if n := z.DeleteRangeByRank(10, 19); n != 10 {
		t.Fatalf("deleted %d by rank", n)
	}
	for _, p := range sortedModel(model)[10:20] {
		delete(model, p.m)
	}
	checkZSet(t, z, model)
	all := LexRange{Min: LexBound{Inf: -1, Ex: true}, Max: LexBound{Inf: 1, Ex: true}}
	if n := z.DeleteRangeByLex(all); n != len(model) {
		t.Fatalf("deleted %d by lex, want %d", n, len(model))
	}
	checkZSet(t, z, map[string]float64{})
}
