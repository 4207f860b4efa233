package picker

import "math/rand/v2"

// index holds the missing pieces that are not in progress, grouped by availability in
// ascending buckets, in the style of libtorrent's piece_picker: order[start[k]:start[k+1]] are
// the pieces that k peers have. Moving a piece to the next bucket is one swap with the bucket
// edge; removing one costs a move per bucket above it. Within a bucket the order is a uniform
// random permutation (each piece entering a bucket is swapped with a random member), so the
// first piece of a bucket a peer has is a uniform random choice among equally rare pieces.
type index struct {
	order []int32 // piece numbers
	pos   []int32 // position of each piece in order, -1 when absent
	start []int   // bucket starts; len(start) = buckets+1 and the last is len(order)
}

func newIndex(n int) index {
	pos := make([]int32, n)
	for i := range pos {
		pos[i] = -1
	}
	return index{order: make([]int32, 0, n), pos: pos, start: []int{0, 0}}
}

// has reports whether piece x is in the index.
func (ix *index) has(x int32) bool { return ix.pos[x] >= 0 }

// buckets is the number of availability buckets.
func (ix *index) buckets() int { return len(ix.start) - 1 }

// grow makes sure bucket k exists.
func (ix *index) grow(k int) {
	for ix.buckets() <= k {
		ix.start = append(ix.start, len(ix.order))
	}
}

func (ix *index) put(x int32, at int) {
	ix.order[at] = x
	ix.pos[x] = int32(at)
}

func (ix *index) swap(a, b int) {
	x, y := ix.order[a], ix.order[b]
	ix.put(y, a)
	ix.put(x, b)
}

// shuffleIn swaps the piece at position at with a random member of bucket k.
func (ix *index) shuffleIn(at, k int, rng *rand.Rand) {
	lo, hi := ix.start[k], ix.start[k+1]
	if hi-lo > 1 {
		ix.swap(at, lo+rng.IntN(hi-lo))
	}
}

// insert adds piece x with availability k: a free slot is opened at the end and walked down
// to bucket k by moving the first piece of each higher bucket to that bucket's end.
func (ix *index) insert(x int32, k int, rng *rand.Rand) {
	ix.grow(k)
	nb := ix.buckets()
	ix.order = append(ix.order, x)
	e := len(ix.order) - 1
	ix.start[nb]++
	for m := nb - 1; m > k; m-- {
		f := ix.start[m]
		if f != e {
			ix.put(ix.order[f], e)
		}
		ix.start[m] = f + 1
		e = f
	}
	ix.put(x, e)
	ix.shuffleIn(e, k, rng)
}

// remove takes piece x, of availability k, out of the index.
func (ix *index) remove(x int32, k int) {
	p := int(ix.pos[x])
	e := ix.start[k+1] - 1
	if e != p {
		ix.put(ix.order[e], p)
	}
	nb := ix.buckets()
	for m := k + 1; m < nb; m++ {
		ix.start[m]--
		last := ix.start[m+1] - 1
		if last != e {
			ix.put(ix.order[last], e)
		}
		e = last
	}
	ix.start[nb]--
	ix.order = ix.order[:len(ix.order)-1]
	ix.pos[x] = -1
}

// inc moves piece x from bucket k to bucket k+1.
func (ix *index) inc(x int32, k int, rng *rand.Rand) {
	ix.grow(k + 1)
	last := ix.start[k+1] - 1
	ix.swap(int(ix.pos[x]), last)
	ix.start[k+1]--
	ix.shuffleIn(last, k+1, rng)
}

// dec moves piece x from bucket k to bucket k-1.
func (ix *index) dec(x int32, k int, rng *rand.Rand) {
	first := ix.start[k]
	ix.swap(int(ix.pos[x]), first)
	ix.start[k]++
	ix.shuffleIn(first, k-1, rng)
}
