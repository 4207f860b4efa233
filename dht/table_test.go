package dht

import (
	"encoding/hex"
	"fmt"
	"math/rand/v2"
	"net/netip"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

var t0 = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)

// idAt returns an id sharing exactly cpl leading bits with self, then the bits of tail.
func idAt(self ID, cpl int, tail byte) ID {
	var id ID
	for i := range id {
		id[i] = tail
	}
	for i := 0; i < cpl; i++ {
		setBit(&id, i, bit(self, i))
	}
	if cpl < IDSize*8 {
		setBit(&id, cpl, !bit(self, cpl))
	}
	return id
}

func pub(i int) netip.AddrPort {
	return netip.AddrPortFrom(netip.AddrFrom4([4]byte{11, 0, byte(i >> 8), byte(i)}), 6881)
}

func TestTableInsert(t *testing.T) {
	self := ID{}
	tests := []struct {
		name  string
		setup func(tb *Table)
		n     NodeInfo
		at    time.Time
		want  InsertResult
		ping  bool
	}{
		{"our own id", nil, NodeInfo{ID: self, Addr: pub(1)}, t0, Rejected, false},
		{"new node", nil, NodeInfo{ID: idAt(self, 0, 1), Addr: pub(1)}, t0, Inserted, false},
		{"known node", func(tb *Table) { tb.Insert(NodeInfo{ID: idAt(self, 0, 1), Addr: pub(1)}, t0) },
			NodeInfo{ID: idAt(self, 0, 1), Addr: pub(1)}, t0.Add(time.Minute), Updated, false},
		{"id claimed from another address", func(tb *Table) { tb.Insert(NodeInfo{ID: idAt(self, 0, 1), Addr: pub(1)}, t0) },
			NodeInfo{ID: idAt(self, 0, 1), Addr: pub(2)}, t0, Rejected, false},
		{"second id on one public IP", func(tb *Table) { tb.Insert(NodeInfo{ID: idAt(self, 0, 1), Addr: pub(1)}, t0) },
			NodeInfo{ID: idAt(self, 1, 1), Addr: netip.AddrPortFrom(pub(1).Addr(), 7000)}, t0, Rejected, false},
		{"second id on loopback is fine", func(tb *Table) {
			tb.Insert(NodeInfo{ID: idAt(self, 0, 1), Addr: netip.MustParseAddrPort("127.0.0.1:1000")}, t0)
		}, NodeInfo{ID: idAt(self, 1, 1), Addr: netip.MustParseAddrPort("127.0.0.1:1001")}, t0, Inserted, false},
		{"full far bucket caches and names a questionable node", func(tb *Table) {
			for i := range K + 1 { // the first split makes bucket 0 the far one
				tb.Insert(NodeInfo{ID: idAt(self, 0, byte(i)), Addr: pub(10 + i)}, t0)
			}
		}, NodeInfo{ID: idAt(self, 0, 0xee), Addr: pub(99)}, t0.Add(20 * time.Minute), Cached, true},
		{"full far bucket of good nodes caches without ping", func(tb *Table) {
			for i := range K {
				tb.Insert(NodeInfo{ID: idAt(self, 0, byte(i)), Addr: pub(10 + i)}, t0)
			}
			tb.Insert(NodeInfo{ID: idAt(self, 5, 1), Addr: pub(50)}, t0) // forces the split
		}, NodeInfo{ID: idAt(self, 0, 0xee), Addr: pub(99)}, t0.Add(time.Minute), Cached, false},
		{"bad node is replaced", func(tb *Table) {
			for i := range K {
				tb.Insert(NodeInfo{ID: idAt(self, 0, byte(i)), Addr: pub(10 + i)}, t0)
			}
			tb.Insert(NodeInfo{ID: idAt(self, 5, 1), Addr: pub(50)}, t0)
			tb.Failed(idAt(self, 0, 3), pub(13), t0)
			tb.Failed(idAt(self, 0, 3), pub(13), t0)
		}, NodeInfo{ID: idAt(self, 0, 0xee), Addr: pub(99)}, t0.Add(time.Minute), Inserted, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tb := NewTable(self, t0)
			if tc.setup != nil {
				tc.setup(tb)
			}
			got, ping := tb.Insert(tc.n, tc.at)
			assert.Equal(t, tc.want, got)
			assert.Equal(t, tc.ping, ping.Addr.IsValid())
		})
	}
}

func TestTableSplitsOnlyAroundSelf(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	self := randomID(r)
	tb := NewTable(self, t0)
	for i := range 5000 {
		tb.Insert(NodeInfo{ID: randomID(r), Addr: pub(i)}, t0)
	}
	for i, b := range tb.buckets {
		require.LessOrEqual(t, len(b.nodes), K, "bucket %d", i)
		for _, e := range b.nodes {
			cpl := commonPrefix(self, e.ID)
			if i < len(tb.buckets)-1 {
				assert.Equal(t, i, cpl, "bucket %d holds a node of prefix %d", i, cpl)
			} else {
				assert.GreaterOrEqual(t, cpl, i)
			}
		}
	}
	// 5,000 random nodes: about log2(5000/8) ≈ 9 splits, buckets 0.. full.
	assert.InDelta(t, 10, tb.Buckets(), 3)
	assert.Equal(t, K, len(tb.buckets[0].nodes))
	assert.Equal(t, replacements, len(tb.buckets[0].repl))
}

func TestTableStatusFifteenMinuteRule(t *testing.T) {
	tests := []struct {
		name string
		e    entry
		at   time.Duration
		want Status
	}{
		{"answered just now", entry{lastReply: t0}, 0, Good},
		{"answered 14 minutes ago", entry{lastReply: t0}, 14 * time.Minute, Good},
		{"answered 15 minutes ago", entry{lastReply: t0}, 15 * time.Minute, Questionable},
		{"old answer, recent query from it", entry{lastReply: t0, lastQuery: t0.Add(20 * time.Minute)}, 25 * time.Minute, Good},
		{"never answered, queried us", entry{lastQuery: t0}, 0, Questionable},
		{"one failure", entry{lastReply: t0, fails: 1}, 0, Good},
		{"two failures", entry{lastReply: t0, fails: 2}, 0, Bad},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			assert.Equal(t, tc.want, tc.e.status(t0.Add(tc.at)))
		})
	}
}

func TestTableFailedPromotesReplacement(t *testing.T) {
	self := ID{}
	tb := NewTable(self, t0)
	for i := range K {
		tb.Insert(NodeInfo{ID: idAt(self, 0, byte(i)), Addr: pub(10 + i)}, t0)
	}
	tb.Insert(NodeInfo{ID: idAt(self, 5, 1), Addr: pub(50)}, t0)
	repl := NodeInfo{ID: idAt(self, 0, 0xee), Addr: pub(99)}
	res, _ := tb.Insert(repl, t0)
	require.Equal(t, Cached, res)
	victim := NodeInfo{ID: idAt(self, 0, 2), Addr: pub(12)}
	tb.Failed(victim.ID, victim.Addr, t0)
	assert.True(t, tb.Contains(victim), "one failure is not bad yet")
	tb.Failed(victim.ID, victim.Addr, t0)
	assert.False(t, tb.Contains(victim))
	assert.True(t, tb.Contains(repl))
}

func TestTableClosest(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	tb := NewTable(randomID(r), t0)
	var all []NodeInfo
	for i := range 300 {
		n := NodeInfo{ID: randomID(r), Addr: pub(i)}
		if res, _ := tb.Insert(n, t0); res == Inserted {
			all = append(all, n)
		}
	}
	target := randomID(r)
	got := tb.Closest(target, K, t0)
	require.Len(t, got, K)
	for i := 1; i < len(got); i++ {
		assert.True(t, closer(target, got[i-1].ID, got[i].ID))
	}
	// Nothing in the table is closer than the last one returned, except those returned.
	in := map[ID]bool{}
	for _, n := range got {
		in[n.ID] = true
	}
	for _, n := range all {
		if !in[n.ID] {
			assert.False(t, closer(target, n.ID, got[K-1].ID))
		}
	}
}

func TestTableStaleRefresh(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 6))
	self := randomID(r)
	tb := NewTable(self, t0)
	for i := range 200 {
		tb.Insert(NodeInfo{ID: randomID(r), Addr: pub(i)}, t0)
	}
	assert.Empty(t, tb.Stale(t0.Add(14*time.Minute), r))
	ids := tb.Stale(t0.Add(15*time.Minute), r)
	assert.Len(t, ids, tb.Buckets())
	for i, id := range ids[:len(ids)-1] {
		assert.Equal(t, i, commonPrefix(self, id), "refresh target of bucket %d", i)
	}
	assert.Empty(t, tb.Stale(t0.Add(16*time.Minute), r), "refreshed buckets wait another 15 minutes")
}

func TestTableQuestionableAndCounts(t *testing.T) {
	tb := NewTable(ID{}, t0)
	tb.Insert(NodeInfo{ID: idAt(ID{}, 0, 1), Addr: pub(1)}, t0)
	tb.Insert(NodeInfo{ID: idAt(ID{}, 1, 1), Addr: pub(2)}, t0.Add(10*time.Minute))
	now := t0.Add(20 * time.Minute)
	q := tb.Questionable(now, 8)
	require.Len(t, q, 1)
	assert.Equal(t, pub(1), q[0].Addr)
	good, questionable, bad := tb.Counts(now)
	assert.Equal(t, []int{1, 1, 0}, []int{good, questionable, bad})
}

func TestBEP42Vectors(t *testing.T) {
	// The examples of BEP 42.
	tests := []struct {
		ip   string
		rand byte
		id   string // first three bytes and the last
	}{
		{"124.31.75.21", 1, "5fbfbf01"},
		{"21.75.31.124", 86, "5a3ce956"},
		{"65.23.51.170", 22, "a5d43216"},
		{"84.124.73.14", 65, "1b032141"},
		{"43.213.53.83", 90, "e56f6c5a"},
	}
	for _, tc := range tests {
		t.Run(tc.ip, func(t *testing.T) {
			ip := netip.MustParseAddr(tc.ip)
			crc := bep42Prefix(ip, tc.rand)
			want, _ := hex.DecodeString(tc.id)
			assert.Equal(t, want[0], byte(crc>>24))
			assert.Equal(t, want[1], byte(crc>>16))
			assert.Equal(t, want[2]&0xf8, byte(crc>>8)&0xf8)
			var id ID
			id[0], id[1], id[2], id[19] = want[0], want[1], want[2], tc.rand
			assert.True(t, BEP42Valid(id, ip))
			id[1] ^= 1
			assert.False(t, BEP42Valid(id, ip))
		})
	}
	r := rand.New(rand.NewPCG(7, 8))
	for i := range 100 {
		ip := netip.AddrFrom4([4]byte{byte(1 + i), 2, 3, byte(i)})
		assert.True(t, BEP42Valid(BEP42ID(ip, r), ip), fmt.Sprint(ip))
	}
	ip6 := netip.MustParseAddr("2001:db8::5")
	assert.True(t, BEP42Valid(BEP42ID(ip6, r), ip6))
	for _, exempt := range []string{"127.0.0.1", "10.1.2.3", "192.168.1.1", "172.16.0.9", "169.254.1.1"} {
		assert.True(t, BEP42Valid(randomID(r), netip.MustParseAddr(exempt)), exempt)
	}
	assert.False(t, BEP42Valid(ID{1, 2, 3}, netip.MustParseAddr("124.31.75.21")))
}
