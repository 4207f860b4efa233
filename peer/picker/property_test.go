package picker

import (
	"encoding/binary"
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/swarm-bt/swarm/peer/bitfield"
)

// source yields small numbers for the operation driver: random in the property test, from the
// input bytes in the fuzz target.
type source interface {
	next(n int) int // in [0, n)
}

type randSource struct{ r *rand.Rand }

func (s randSource) next(n int) int { return s.r.IntN(n) }

type byteSource struct{ b []byte }

func (s *byteSource) next(n int) int {
	if len(s.b) == 0 {
		return 0
	}
	v := int(s.b[0])
	s.b = s.b[1:]
	return v % n
}

func (s *byteSource) empty() bool { return len(s.b) == 0 }

// driver applies arbitrary operations, valid or not, and remembers blocks handed out so that
// most receipts and releases hit real requests.
type driver struct {
	p      *Picker
	src    source
	n      int
	peers  int
	handed []handout
	log    []string
}

type handout struct {
	id PeerID
	b  Block
}

func newDriver(src source, seed uint64) *driver {
	n := src.next(9)       // 0-8 pieces
	bs := 1 + src.next(5)  // blocks of 1-5 bytes
	pl := 1 + src.next(12) // pieces of 1-12 bytes
	total := int64(0)
	if n > 0 {
		total = int64(n-1)*int64(pl) + 1 + int64(src.next(pl))
	}
	cfg := Config{NumPieces: n, PieceLength: int64(pl), TotalLength: total, BlockSize: uint32(bs),
		RandomFirst: src.next(3) - 1, EndgameMaxPeers: 1 + src.next(maxPeersPerBlock), Rand: rand.New(rand.NewPCG(seed, 5))}
	return &driver{p: New(cfg, randomBitfield(src, n, 4)), src: src, n: n, peers: 1 + src.next(5)}
}

// randomBitfield sets each piece with probability 1/odds.
func randomBitfield(src source, n, odds int) bitfield.Bitfield {
	b := bitfield.New(n)
	for i := range n {
		if src.next(odds) == 0 {
			b.Set(i)
		}
	}
	return b
}

func (d *driver) step() {
	id := PeerID(d.src.next(d.peers))
	piece := d.src.next(d.n+2) - 1 // sometimes out of range
	switch op := d.src.next(10); op {
	case 0:
		d.p.PeerBitfield(id, randomBitfield(d.src, d.n, 2))
		d.log = append(d.log, fmt.Sprintf("bitfield %d", id))
	case 1:
		d.p.PeerHave(id, piece)
		d.log = append(d.log, fmt.Sprintf("have %d %d", id, piece))
	case 2:
		d.p.PeerGone(id)
		d.log = append(d.log, fmt.Sprintf("gone %d", id))
	case 3, 4, 5:
		d.pick(id)
	case 6:
		d.receive(id)
	case 7:
		d.release(id)
	case 8:
		d.p.PieceVerified(piece)
		d.log = append(d.log, fmt.Sprintf("verified %d", piece))
	case 9:
		d.p.PieceFailed(piece)
		d.log = append(d.log, fmt.Sprintf("failed %d", piece))
	}
}

func (d *driver) pick(id PeerID) {
	max := d.src.next(8)
	got := d.p.Pick(id, max)
	for _, b := range got {
		d.handed = append(d.handed, handout{id, b})
	}
	d.log = append(d.log, fmt.Sprintf("pick %d %d -> %v", id, max, got))
}

// target returns a remembered handout (often for another peer) or a made-up block.
func (d *driver) target(id PeerID) handout {
	if len(d.handed) == 0 || d.src.next(4) == 0 {
		return handout{id, Block{Piece: d.src.next(d.n + 1), Begin: uint32(d.src.next(16)), Length: uint32(d.src.next(6))}}
	}
	h := d.handed[d.src.next(len(d.handed))]
	if d.src.next(4) == 0 {
		h.id = id
	}
	return h
}

func (d *driver) receive(id PeerID) {
	h := d.target(id)
	ok, done, cancel := d.p.Received(h.id, h.b)
	d.log = append(d.log, fmt.Sprintf("received %d %v -> %v %v %v", h.id, h.b, ok, done, cancel))
	if done && d.src.next(3) > 0 {
		d.p.PieceVerified(h.b.Piece)
		d.log = append(d.log, fmt.Sprintf("verified %d", h.b.Piece))
	}
}

func (d *driver) release(id PeerID) {
	h := d.target(id)
	d.p.Release(h.id, h.b)
	d.log = append(d.log, fmt.Sprintf("release %d %v", h.id, h.b))
}

func TestRandomOperations(t *testing.T) {
	for seed := range uint64(300) {
		d := newDriver(randSource{rand.New(rand.NewPCG(seed, 3))}, seed)
		for range 300 {
			d.step()
			if err := invariants(d.p); err != nil {
				t.Fatalf("seed %d: %v after\n%v", seed, err, d.log)
			}
		}
	}
}

// FuzzPicker drives the picker with operation sequences decoded from the input and checks
// every invariant after each one.
func FuzzPicker(f *testing.F) {
	for seed := range uint64(8) {
		b := make([]byte, 256)
		r := rand.New(rand.NewPCG(seed, 0))
		for i := 0; i < len(b); i += 8 {
			binary.LittleEndian.PutUint64(b[i:], r.Uint64())
		}
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		src := &byteSource{b: data}
		d := newDriver(src, 1)
		for !src.empty() {
			d.step()
			if err := invariants(d.p); err != nil {
				t.Fatalf("%v after\n%v", err, d.log)
			}
		}
	})
}
