package keyspace

import "math/rand/v2"

// ZSet is a sorted set value: a skiplist ordered by (score, member) for
// ranges and ranks, plus Dict (member -> score) for O(1) lookups. Every
// level of the skiplist records how many bottom-level nodes each link
// jumps over (its span), so the rank of a node, and the node at a rank,
// are found in O(log n) like in Redis.
//
// Dict is exported for readers (persistence, DEBUG, SORT); all changes go
// through the ZSet methods, which keep the two views in step.
//
// Big records that the set has outgrown the listpack limits: Redis keeps
// small sets in a listpack and converts them to a skiplist for good once a
// limit is passed, and OBJECT ENCODING reports which one it is.
type ZSet struct {
	Dict Dict[float64]
	Big  bool

	head   ZNode // level[i].forward is the first node of level i
	tail   *ZNode
	length int
	level  int
}

// ZNode is one member of a sorted set, in score order.
type ZNode struct {
	Member   string
	Score    float64
	backward *ZNode
	level    []zslLevel
}

type zslLevel struct {
	forward *ZNode
	span    int
}

const (
	zslMaxLevel = 32
	// A node also appears one level up with chance 1/4 (Redis's P).
	zslThreshold = 1 << 30
)

// NewZSet returns an empty sorted set in its compact (listpack) form.
func NewZSet() *ZSet {
	z := &ZSet{Dict: *NewDict[float64](), level: 1}
	z.head.level = make([]zslLevel, zslMaxLevel)
	return z
}

// Len is the number of members.
func (z *ZSet) Len() int { return z.length }

// Encoding is what OBJECT ENCODING reports.
func (z *ZSet) Encoding() string {
	if z.Big {
		return "skiplist"
	}
	return "listpack"
}

// Next is the following node in score order, or nil.
func (n *ZNode) Next() *ZNode { return n.level[0].forward }

// Prev is the preceding node in score order, or nil.
func (n *ZNode) Prev() *ZNode { return n.backward }

// First is the node with the lowest (score, member), or nil.
func (z *ZSet) First() *ZNode { return z.head.level[0].forward }

// Last is the node with the highest (score, member), or nil.
func (z *ZSet) Last() *ZNode { return z.tail }

// Score returns the score of member.
func (z *ZSet) Score(member []byte) (float64, bool) {
	p := z.Dict.GetBytes(member)
	if p == nil {
		return 0, false
	}
	return *p, true
}

// ScoreOf is Score for a member held as a string.
func (z *ZSet) ScoreOf(member string) (float64, bool) {
	p := z.Dict.Get(member)
	if p == nil {
		return 0, false
	}
	return *p, true
}

// less orders nodes: by score, then by member bytes.
func less(score float64, member string, s2 float64, m2 string) bool {
	return score < s2 || (score == s2 && member < m2)
}

func randomLevel() int {
	lvl := 1
	for lvl < zslMaxLevel && rand.Uint32() < zslThreshold {
		lvl++
	}
	return lvl
}

// Insert adds a member that is not in the set.
func (z *ZSet) Insert(member string, score float64) {
	z.Dict.Set(member, score)
	z.zslInsert(member, score)
}

// Set adds member or changes its score; it reports whether it was new.
func (z *ZSet) Set(member string, score float64) bool {
	if old, ok := z.ScoreOf(member); ok {
		if old != score {
			z.Update(member, old, score)
		}
		return false
	}
	z.Insert(member, score)
	return true
}

func (z *ZSet) zslInsert(member string, score float64) *ZNode {
	var update [zslMaxLevel]*ZNode
	var rank [zslMaxLevel]int
	x := &z.head
	for i := z.level - 1; i >= 0; i-- {
		if i < z.level-1 {
			rank[i] = rank[i+1]
		}
		for f := x.level[i].forward; f != nil && less(f.Score, f.Member, score, member); f = x.level[i].forward {
			rank[i] += x.level[i].span
			x = f
		}
		update[i] = x
	}
	lvl := randomLevel()
	if lvl > z.level {
		for i := z.level; i < lvl; i++ {
			rank[i] = 0
			update[i] = &z.head
			update[i].level[i].span = z.length
		}
		z.level = lvl
	}
	n := &ZNode{Member: member, Score: score, level: make([]zslLevel, lvl)}
	for i := 0; i < lvl; i++ {
		n.level[i].forward = update[i].level[i].forward
		update[i].level[i].forward = n
		n.level[i].span = update[i].level[i].span - (rank[0] - rank[i])
		update[i].level[i].span = rank[0] - rank[i] + 1
	}
	for i := lvl; i < z.level; i++ {
		update[i].level[i].span++
	}
	if update[0] != &z.head {
		n.backward = update[0]
	}
	if n.level[0].forward != nil {
		n.level[0].forward.backward = n
	} else {
		z.tail = n
	}
	z.length++
	return n
}

// unlink removes x given the rightmost node before it at every level.
func (z *ZSet) unlink(x *ZNode, update *[zslMaxLevel]*ZNode) {
	for i := 0; i < z.level; i++ {
		if update[i].level[i].forward == x {
			update[i].level[i].span += x.level[i].span - 1
			update[i].level[i].forward = x.level[i].forward
		} else {
			update[i].level[i].span--
		}
	}
	if x.level[0].forward != nil {
		x.level[0].forward.backward = x.backward
	} else {
		z.tail = x.backward
	}
	for z.level > 1 && z.head.level[z.level-1].forward == nil {
		z.level--
	}
	z.length--
}

// seek fills update with the last node before (score, member) per level
// and returns the node at that position, if it is that member.
func (z *ZSet) seek(member string, score float64, update *[zslMaxLevel]*ZNode) *ZNode {
	x := &z.head
	for i := z.level - 1; i >= 0; i-- {
		for f := x.level[i].forward; f != nil && less(f.Score, f.Member, score, member); f = x.level[i].forward {
			x = f
		}
		update[i] = x
	}
	x = x.level[0].forward
	if x != nil && x.Score == score && x.Member == member {
		return x
	}
	return nil
}

// Update moves member from score old (its current one) to score new.
func (z *ZSet) Update(member string, old, score float64) {
	var update [zslMaxLevel]*ZNode
	x := z.seek(member, old, &update)
	if x == nil {
		panic("keyspace: zset update of a missing member")
	}
	if p := z.Dict.Get(member); p != nil {
		*p = score
	}
	// Same position after the change: update in place.
	if (x.backward == nil || x.backward.Score < score) &&
		(x.level[0].forward == nil || x.level[0].forward.Score > score) {
		x.Score = score
		return
	}
	z.unlink(x, &update)
	z.zslInsert(x.Member, score)
}

// Delete removes member and reports whether it was there.
func (z *ZSet) Delete(member []byte) bool {
	k, ok := z.Dict.KeyOf(member)
	if !ok {
		return false
	}
	return z.DeleteString(k)
}

// DeleteString is Delete for a member held as a string.
func (z *ZSet) DeleteString(member string) bool {
	score, ok := z.Dict.Delete(member)
	if !ok {
		return false
	}
	var update [zslMaxLevel]*ZNode
	x := z.seek(member, score, &update)
	if x == nil {
		panic("keyspace: zset skiplist and dict disagree")
	}
	z.unlink(x, &update)
	return true
}

// Rank returns the 0-based ascending rank of member.
func (z *ZSet) Rank(member []byte) (int, bool) {
	k, ok := z.Dict.KeyOf(member)
	if !ok {
		return 0, false
	}
	score := *z.Dict.Get(k)
	return z.rankOf(k, score), true
}

// RankOfNode returns the 0-based ascending rank of a node of this set.
func (z *ZSet) RankOfNode(n *ZNode) int { return z.rankOf(n.Member, n.Score) }

// rankOf walks down the levels summing spans up to (score, member).
func (z *ZSet) rankOf(member string, score float64) int {
	rank := 0
	x := &z.head
	for i := z.level - 1; i >= 0; i-- {
		for f := x.level[i].forward; f != nil && (less(f.Score, f.Member, score, member) || (f.Score == score && f.Member == member)); f = x.level[i].forward {
			rank += x.level[i].span
			x = f
		}
		if x != &z.head && x.Score == score && x.Member == member {
			return rank - 1
		}
	}
	return -1
}

// ByRank returns the node at 0-based ascending rank r, or nil.
func (z *ZSet) ByRank(r int) *ZNode {
	if r < 0 || r >= z.length {
		return nil
	}
	want := r + 1
	traversed := 0
	x := &z.head
	for i := z.level - 1; i >= 0; i-- {
		for x.level[i].forward != nil && traversed+x.level[i].span <= want {
			traversed += x.level[i].span
			x = x.level[i].forward
		}
		if traversed == want {
			return x
		}
	}
	return nil
}

// ScoreRange is a score interval; MinEx/MaxEx make an end exclusive.
type ScoreRange struct {
	Min, Max     float64
	MinEx, MaxEx bool
}

func (r *ScoreRange) gteMin(v float64) bool {
	if r.MinEx {
		return v > r.Min
	}
	return v >= r.Min
}

func (r *ScoreRange) lteMax(v float64) bool {
	if r.MaxEx {
		return v < r.Max
	}
	return v <= r.Max
}

// Contains says whether v is inside the range.
func (r *ScoreRange) Contains(v float64) bool { return r.gteMin(v) && r.lteMax(v) }

// GteMin says whether v is at or past the lower end.
func (r *ScoreRange) GteMin(v float64) bool { return r.gteMin(v) }

// LteMax says whether v is at or before the upper end.
func (r *ScoreRange) LteMax(v float64) bool { return r.lteMax(v) }

func (z *ZSet) inRange(r *ScoreRange) bool {
	if r.Min > r.Max || (r.Min == r.Max && (r.MinEx || r.MaxEx)) {
		return false
	}
	if z.tail == nil || !r.gteMin(z.tail.Score) {
		return false
	}
	f := z.head.level[0].forward
	return f != nil && r.lteMax(f.Score)
}

// FirstInRange returns the lowest node with a score in r, or nil.
func (z *ZSet) FirstInRange(r ScoreRange) *ZNode {
	if !z.inRange(&r) {
		return nil
	}
	x := &z.head
	for i := z.level - 1; i >= 0; i-- {
		for f := x.level[i].forward; f != nil && !r.gteMin(f.Score); f = x.level[i].forward {
			x = f
		}
	}
	x = x.level[0].forward
	if x == nil || !r.lteMax(x.Score) {
		return nil
	}
	return x
}

// LastInRange returns the highest node with a score in r, or nil.
func (z *ZSet) LastInRange(r ScoreRange) *ZNode {
	if !z.inRange(&r) {
		return nil
	}
	x := &z.head
	for i := z.level - 1; i >= 0; i-- {
		for f := x.level[i].forward; f != nil && r.lteMax(f.Score); f = x.level[i].forward {
			x = f
		}
	}
	if x == &z.head || !r.gteMin(x.Score) {
		return nil
	}
	return x
}

// LexBound is one end of a lexicographic range: Inf -1 is "-" (below
// every string), +1 is "+" (above every string), 0 a string, exclusive
// when Ex.
type LexBound struct {
	S   string
	Ex  bool
	Inf int8
}

// LexRange is a ZRANGEBYLEX interval.
type LexRange struct{ Min, Max LexBound }

// cmpLex compares v with a bound.
func cmpLex(v string, b *LexBound) int {
	switch b.Inf {
	case -1:
		return 1
	case 1:
		return -1
	}
	switch {
	case v < b.S:
		return -1
	case v > b.S:
		return 1
	}
	return 0
}

// cmpBounds compares two bounds as Redis's sdscmplex does.
func cmpBounds(a, b *LexBound) int {
	if a.Inf != 0 || b.Inf != 0 {
		if a.Inf == b.Inf {
			return 0
		}
		if a.Inf == -1 || b.Inf == 1 {
			return -1
		}
		return 1
	}
	switch {
	case a.S < b.S:
		return -1
	case a.S > b.S:
		return 1
	}
	return 0
}

// GteMin says whether v is at or past the lower end.
func (r *LexRange) GteMin(v string) bool {
	c := cmpLex(v, &r.Min)
	if r.Min.Ex {
		return c > 0
	}
	return c >= 0
}

// LteMax says whether v is at or before the upper end.
func (r *LexRange) LteMax(v string) bool {
	c := cmpLex(v, &r.Max)
	if r.Max.Ex {
		return c < 0
	}
	return c <= 0
}

// Empty says whether the range can contain nothing whatever the set.
func (r *LexRange) Empty() bool {
	c := cmpBounds(&r.Min, &r.Max)
	return c > 0 || (c == 0 && (r.Min.Ex || r.Max.Ex))
}

func (z *ZSet) inLexRange(r *LexRange) bool {
	if r.Empty() {
		return false
	}
	if z.tail == nil || !r.GteMin(z.tail.Member) {
		return false
	}
	f := z.head.level[0].forward
	return f != nil && r.LteMax(f.Member)
}

// FirstInLexRange returns the lowest node whose member is in r, or nil.
// Lex ranges are meaningful when all scores are equal, as in Redis.
func (z *ZSet) FirstInLexRange(r LexRange) *ZNode {
	if !z.inLexRange(&r) {
		return nil
	}
	x := &z.head
	for i := z.level - 1; i >= 0; i-- {
		for f := x.level[i].forward; f != nil && !r.GteMin(f.Member); f = x.level[i].forward {
			x = f
		}
	}
	x = x.level[0].forward
	if x == nil || !r.LteMax(x.Member) {
		return nil
	}
	return x
}

// LastInLexRange returns the highest node whose member is in r, or nil.
func (z *ZSet) LastInLexRange(r LexRange) *ZNode {
	if !z.inLexRange(&r) {
		return nil
	}
	x := &z.head
	for i := z.level - 1; i >= 0; i-- {
		for f := x.level[i].forward; f != nil && r.LteMax(f.Member); f = x.level[i].forward {
			x = f
		}
	}
	if x == &z.head || !r.GteMin(x.Member) {
		return nil
	}
	return x
}

// deleteFrom removes nodes from x on while keep says so, update being the
// predecessors of x per level.
func (z *ZSet) deleteFrom(x *ZNode, update *[zslMaxLevel]*ZNode, keep func(*ZNode) bool) int {
	removed := 0
	for x != nil && keep(x) {
		next := x.level[0].forward
		z.unlink(x, update)
		z.Dict.Delete(x.Member)
		removed++
		x = next
	}
	return removed
}

// DeleteRangeByScore removes the members with a score in r.
func (z *ZSet) DeleteRangeByScore(r ScoreRange) int {
	var update [zslMaxLevel]*ZNode
	x := &z.head
	for i := z.level - 1; i >= 0; i-- {
		for f := x.level[i].forward; f != nil && !r.gteMin(f.Score); f = x.level[i].forward {
			x = f
		}
		update[i] = x
	}
	return z.deleteFrom(x.level[0].forward, &update, func(n *ZNode) bool { return r.lteMax(n.Score) })
}

// DeleteRangeByLex removes the members in r.
func (z *ZSet) DeleteRangeByLex(r LexRange) int {
	var update [zslMaxLevel]*ZNode
	x := &z.head
	for i := z.level - 1; i >= 0; i-- {
		for f := x.level[i].forward; f != nil && !r.GteMin(f.Member); f = x.level[i].forward {
			x = f
		}
		update[i] = x
	}
	return z.deleteFrom(x.level[0].forward, &update, func(n *ZNode) bool { return r.LteMax(n.Member) })
}

// DeleteRangeByRank removes the members with 0-based ranks start..end
// (inclusive, both in range).
func (z *ZSet) DeleteRangeByRank(start, end int) int {
	var update [zslMaxLevel]*ZNode
	traversed := 0
	x := &z.head
	for i := z.level - 1; i >= 0; i-- {
		for x.level[i].forward != nil && traversed+x.level[i].span <= start {
			traversed += x.level[i].span
			x = x.level[i].forward
		}
		update[i] = x
	}
	rank := start
	return z.deleteFrom(x.level[0].forward, &update, func(*ZNode) bool {
		ok := rank <= end
		rank++
		return ok
	})
}

// Range calls fn for every member in ascending order until it returns
// false. fn must not change the set.
func (z *ZSet) Range(fn func(member string, score float64) bool) {
	for x := z.head.level[0].forward; x != nil; x = x.level[0].forward {
		if !fn(x.Member, x.Score) {
			return
		}
	}
}

// Clear empties the set (the encoding stays as it is).
func (z *ZSet) Clear() {
	z.Dict.Clear()
	for i := range z.head.level {
		z.head.level[i] = zslLevel{}
	}
	z.tail = nil
	z.length = 0
	z.level = 1
}
