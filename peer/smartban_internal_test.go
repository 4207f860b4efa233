package peer

import (
	"io"
	"log/slog"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func smartBanSwarm() *Swarm {
	return &Swarm{
		log:   slog.New(slog.NewTextHandler(io.Discard, nil)),
		dl:    download{suspect: map[int]*suspectRecords{}},
		peers: newPeerTable(),
	}
}

func TestSmartBanBansOnlyDifferingSenders(t *testing.T) {
	s := smartBanSwarm()
	honest, liar := [20]byte{1}, [20]byte{2}
	good := [][20]byte{{0xa}, {0xb}}
	s.suspectFailed(7, [][20]byte{honest, liar}, [][20]byte{good[0], {0xee}})
	s.suspectFailed(7, [][20]byte{honest, liar}, [][20]byte{good[0], {0xee}}) // same again
	require.Contains(t, s.dl.suspect, 7)
	assert.Equal(t, 2, s.dl.suspect[7].rounds)
	assert.Len(t, s.dl.suspect[7].blocks, 2, "a repeated block is kept once")

	s.suspectVerified(7, good)
	assert.True(t, s.peers.banned[liar])
	assert.False(t, s.peers.banned[honest])
	assert.NotContains(t, s.dl.suspect, 7, "records go once the piece verifies")
}

func TestSmartBanMemoryIsBounded(t *testing.T) {
	s := smartBanSwarm()
	a, b := [20]byte{1}, [20]byte{2}
	for i := range maxSuspectPieces + 10 {
		s.suspectFailed(i, [][20]byte{a, b}, [][20]byte{{1}, {2}})
	}
	assert.Len(t, s.dl.suspect, maxSuspectPieces)
	for r := range 2 * maxSuspectRounds {
		s.suspectFailed(0, [][20]byte{a, b}, [][20]byte{{byte(r)}, {byte(r)}})
	}
	assert.Equal(t, maxSuspectRounds, s.dl.suspect[0].rounds)
	assert.LessOrEqual(t, len(s.dl.suspect[0].blocks), 2*maxSuspectRounds)
}
