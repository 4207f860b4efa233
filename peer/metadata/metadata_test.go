package metadata

import (
	"bytes"
	"crypto/sha1"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/swarm-bt/swarm/peer/wire"
)

var t0 = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)

func info(n int) ([]byte, [20]byte) {
	b := bytes.Repeat([]byte("0123456789abcdef"), n/16+1)[:n]
	return b, sha1.Sum(b)
}

func piece(b []byte, i int) wire.MetadataMsg {
	end := min(len(b), (i+1)*wire.MetadataPieceSize)
	return wire.MetadataMsg{Type: wire.MetadataData, Piece: i, TotalSize: int64(len(b)), Data: b[i*wire.MetadataPieceSize : end]}
}

// serve answers every request with the true piece (or what lie returns), until done.
func serve(t *testing.T, a *Assembler, b []byte, now time.Time, lie func(Request) []byte) ([]int, error) {
	t.Helper()
	for range 1000 {
		reqs := a.Requests(now)
		if len(reqs) == 0 {
			return nil, nil
		}
		for _, r := range reqs {
			m := piece(b, r.Piece)
			if lie != nil {
				if d := lie(r); d != nil {
					m.Data = d
				}
			}
			bad, err := a.Data(r.Peer, m)
			if err != nil || a.Done() != nil {
				return bad, err
			}
		}
	}
	t.Fatal("no progress")
	return nil, nil
}

func TestAssembleFromSeveralPeers(t *testing.T) {
	b, ih := info(5*wire.MetadataPieceSize + 100)
	a := New(ih, Config{})
	for id := 1; id <= 3; id++ {
		require.NoError(t, a.AddPeer(id, int64(len(b))))
	}
	reqs := a.Requests(t0)
	require.Len(t, reqs, 6, "every piece asked at once")
	perPeer := map[int]int{}
	for _, r := range reqs {
		perPeer[r.Peer]++
	}
	assert.Equal(t, map[int]int{1: 2, 2: 2, 3: 2}, perPeer, "spread, at most 2 per peer")
	for _, r := range reqs {
		_, err := a.Data(r.Peer, piece(b, r.Piece))
		require.NoError(t, err)
	}
	assert.Equal(t, b, a.Done())
	assert.Empty(t, a.Requests(t0))
}

func TestInFlightCap(t *testing.T) {
	b, ih := info(10 * wire.MetadataPieceSize)
	a := New(ih, Config{MaxInFlight: 3})
	require.NoError(t, a.AddPeer(7, int64(len(b))))
	assert.Len(t, a.Requests(t0), 3)
	assert.Empty(t, a.Requests(t0), "nothing more until answers")
	_, err := a.Data(7, piece(b, 0))
	require.NoError(t, err)
	assert.Equal(t, []Request{{7, 3}}, a.Requests(t0))
	have, total := a.Progress()
	assert.Equal(t, 1, have)
	assert.Equal(t, 10, total)
}

func TestTooLarge(t *testing.T) {
	a := New([20]byte{}, Config{})
	err := a.AddPeer(1, 1<<40)
	require.ErrorIs(t, err, ErrTooLarge)
	assert.Contains(t, err.Error(), "1099511627776 bytes, limit 67108864")
	assert.Zero(t, a.Peers())
	assert.Empty(t, a.Requests(t0))
	require.NoError(t, a.AddPeer(2, wire.MaxMetadataSize))
	assert.Len(t, a.Requests(t0), 2)
}

func TestSilentPeerTimesOut(t *testing.T) {
	b, ih := info(3 * wire.MetadataPieceSize)
	a := New(ih, Config{Timeout: 10 * time.Second, Backoff: time.Minute})
	require.NoError(t, a.AddPeer(1, int64(len(b)))) // never answers
	reqs := a.Requests(t0)
	require.Len(t, reqs, 2)
	assert.Empty(t, a.Expire(t0.Add(9*time.Second)))
	assert.Equal(t, []int{1}, a.Expire(t0.Add(10*time.Second)))
	assert.Empty(t, a.Requests(t0.Add(11*time.Second)), "the silent peer rests")

	require.NoError(t, a.AddPeer(2, int64(len(b))))
	_, err := serve(t, a, b, t0.Add(11*time.Second), nil)
	require.NoError(t, err)
	assert.Equal(t, b, a.Done())
}

func TestReject(t *testing.T) {
	b, ih := info(2 * wire.MetadataPieceSize)
	a := New(ih, Config{Backoff: time.Minute})
	require.NoError(t, a.AddPeer(1, int64(len(b))))
	require.NoError(t, a.AddPeer(2, int64(len(b))))
	reqs := a.Requests(t0)
	require.Len(t, reqs, 2)
	a.Reject(reqs[0].Peer, reqs[0].Piece, t0)
	again := a.Requests(t0)
	require.Len(t, again, 1)
	assert.NotEqual(t, reqs[0].Peer, again[0].Peer, "asked of the other peer")
	assert.Equal(t, reqs[0].Piece, again[0].Piece)
}

func TestBadHashSinglePeerDropped(t *testing.T) {
	b, ih := info(2*wire.MetadataPieceSize + 5)
	a := New(ih, Config{})
	require.NoError(t, a.AddPeer(1, int64(len(b))))
	// same sizes, wrong bytes (a wrong-size lie is ErrBadPiece, tested below)
	bad, err := serve(t, a, b, t0, func(r Request) []byte { return make([]byte, len(piece(b, r.Piece).Data)) })
	require.ErrorIs(t, err, ErrHashMismatch)
	assert.Equal(t, []int{1}, bad)
	assert.Zero(t, a.Peers())

	require.NoError(t, a.AddPeer(2, int64(len(b))))
	_, err = serve(t, a, b, t0, nil)
	require.NoError(t, err)
	assert.Equal(t, b, a.Done())
}

// TestBadHashAmongSeveral: a liar among honest peers is found by the single-source round
// and the metadata still completes.
func TestBadHashAmongSeveral(t *testing.T) {
	b, ih := info(6 * wire.MetadataPieceSize)
	a := New(ih, Config{})
	for id := 1; id <= 3; id++ {
		require.NoError(t, a.AddPeer(id, int64(len(b))))
	}
	lie := func(r Request) []byte {
		if r.Peer == 1 {
			return bytes.Repeat([]byte{'!'}, wire.MetadataPieceSize)
		}
		return nil
	}
	bad, err := serve(t, a, b, t0, lie)
	require.ErrorIs(t, err, ErrHashMismatch)
	assert.Empty(t, bad, "several sources: no one blamed yet")
	var dropped []int
	for a.Done() == nil {
		bad, err := serve(t, a, b, t0, lie)
		if err != nil {
			require.ErrorIs(t, err, ErrHashMismatch)
		}
		dropped = append(dropped, bad...)
		require.Less(t, len(dropped), 3)
	}
	assert.Equal(t, b, a.Done())
	assert.NotContains(t, dropped, 2)
	assert.NotContains(t, dropped, 3)
}

func TestBadPiece(t *testing.T) {
	b, ih := info(2 * wire.MetadataPieceSize)
	a := New(ih, Config{})
	require.NoError(t, a.AddPeer(1, int64(len(b))))
	require.NoError(t, a.AddPeer(2, int64(len(b))))
	reqs := a.Requests(t0)
	require.Len(t, reqs, 2)
	other := 3 - reqs[0].Peer
	bad, err := a.Data(other, piece(b, reqs[0].Piece))
	require.ErrorIs(t, err, ErrBadPiece, "unsolicited")
	assert.Equal(t, []int{other}, bad)

	m := piece(b, reqs[0].Piece)
	m.Data = m.Data[:10]
	bad, err = a.Data(reqs[0].Peer, m)
	require.ErrorIs(t, err, ErrBadPiece, "short")
	assert.Equal(t, []int{reqs[0].Peer}, bad)
}

func TestOtherSizeNotAsked(t *testing.T) {
	b, ih := info(wire.MetadataPieceSize)
	a := New(ih, Config{})
	require.NoError(t, a.AddPeer(1, int64(len(b))))
	require.NoError(t, a.AddPeer(2, 999))
	reqs := a.Requests(t0)
	assert.Equal(t, []Request{{1, 0}}, reqs)
	a.RemovePeer(1)
	assert.Empty(t, a.Requests(t0), "peer 2 announces another size")
}
