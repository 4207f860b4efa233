package peer

import (
	"io"
	"log/slog"
	"net/netip"
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
	honest, liar := testSender(1, "10.0.0.1", 1), testSender(2, "10.0.0.2", 2)
	good := [][20]byte{{0xa}, {0xb}}
	s.suspectFailed(7, []sender{honest, liar}, [][20]byte{good[0], {0xee}})
	s.suspectFailed(7, []sender{honest, liar}, [][20]byte{good[0], {0xee}}) // same again
	require.Contains(t, s.dl.suspect, 7)
	assert.Equal(t, 2, s.dl.suspect[7].rounds)
	assert.Len(t, s.dl.suspect[7].blocks, 2, "a repeated block is kept once")

	s.suspectVerified(7, good)
	assert.True(t, s.peers.banned[liar.key])
	assert.False(t, s.peers.banned[honest.key])
	assert.NotContains(t, s.dl.suspect, 7, "records go once the piece verifies")
}

func TestSmartBanMemoryIsBounded(t *testing.T) {
	s := smartBanSwarm()
	a, b := testSender(1, "10.0.0.1", 1), testSender(2, "10.0.0.2", 2)
	for i := range maxSuspectPieces + 10 {
		s.suspectFailed(i, []sender{a, b}, [][20]byte{{1}, {2}})
	}
	assert.Len(t, s.dl.suspect, maxSuspectPieces)
	for r := range 2 * maxSuspectRounds {
		s.suspectFailed(0, []sender{a, b}, [][20]byte{{byte(r)}, {byte(r)}})
	}
	assert.Equal(t, maxSuspectRounds, s.dl.suspect[0].rounds)
	assert.LessOrEqual(t, len(s.dl.suspect[0].blocks), 2*maxSuspectRounds)
}

func testSender(conn int, ip string, id byte) sender {
	return sender{conn: conn, key: peerKey{ip: netip.MustParseAddr(ip), id: [20]byte{id}}}
}

func TestSeveralSenders(t *testing.T) {
	a, b := sender{conn: 1}, sender{conn: 2}
	for _, blocks := range [][]sender{
		nil, {{}}, {a}, {a, a, {}}, {{}, a, {}, a}, {a, b}, {{}, a, a, b}, {b, {}, a},
	} {
		assert.Equal(t, len(distinctSenders(blocks)) > 1, severalSenders(blocks), "%v", blocks)
	}
}
