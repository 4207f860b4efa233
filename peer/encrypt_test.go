package peer_test

import (
	"io"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/swarm-bt/swarm/peer"
	"github.com/swarm-bt/swarm/peer/mse"
	"github.com/swarm-bt/swarm/peer/peertest"
)

// TestEncryptionPolicyPairs runs a seeder and a leecher in every pair of policies, through the
// sessions' real accept and dial paths. Both dial each other (the seeder dials the leechers the
// tracker lists), so every pair exercises MSE and the fallback from both ends. A pair with
// Off on one side and Require on the other cannot work: the peers must refuse each other at
// once (no handshake timeout) and keep running.
func TestEncryptionPolicyPairs(t *testing.T) {
	tor, err := peertest.NewTorrent("enc.bin", 300<<10+5, 32<<10, 3)
	require.NoError(t, err)
	policies := []mse.Policy{mse.Off, mse.Prefer, mse.Require}
	for _, sp := range policies {
		for _, lp := range policies {
			// The method the connection ends up with; "" when the pair cannot connect.
			want := "rc4"
			switch {
			case (sp == mse.Off) != (lp == mse.Off) && (sp == mse.Require || lp == mse.Require):
				want = ""
			case sp == mse.Off || lp == mse.Off:
				want = "none"
			case sp == mse.Prefer && lp == mse.Prefer:
				want = "plaintext" // an obfuscated handshake, then plain messages
			}
			t.Run("seed-"+sp.String()+"-leech-"+lp.String(), func(t *testing.T) {
				synctest.Test(t, func(t *testing.T) {
					net, tr := peertest.NewNetwork(), peertest.NewTracker()
					seedLog, leechLog := newRecorder(), newRecorder()
					configure := func(p mse.Policy) func(*peer.Config) {
						return func(c *peer.Config) { fastTimeouts(c); c.Encryption = p }
					}
					seeder := bubbleNode(t, net, tor, peertest.Options{Announcer: tr, Seed: true,
						Logger: seedLog.logger(), Configure: configure(sp)})
					leecher := bubbleNode(t, net, tor, peertest.Options{Announcer: tr,
						Logger: leechLog.logger(), Configure: configure(lp)})
					if want == "" {
						time.Sleep(time.Minute)
						st := leecher.Swarm.Stats()
						assert.Zero(t, st.Downloaded)
						assert.Empty(t, st.Peers)
						for _, r := range []*recorder{seedLog, leechLog} {
							failed := r.find(`"dial failed"`)
							require.NotEmpty(t, failed, "no dial was refused")
							assert.NotContains(t, failed, "timeout", "the refusal waited for a timeout")
						}
					} else {
						awaitComplete(t, leecher, 10*time.Minute)
						assert.NoError(t, tor.Compare(leecher.Storage))
						for _, r := range []*recorder{seedLog, leechLog} {
							connected := r.find(`"peer connected"`)
							require.NotEmpty(t, connected)
							assert.True(t, strings.Contains(connected, "encryption="+want), connected)
						}
					}
					require.NoError(t, leecher.Stop())
					require.NoError(t, seeder.Stop())
				})
			})
		}
	}
}

// TestEncryptionStats: a peer's Stats say how its connection is protected.
func TestEncryptionStats(t *testing.T) {
	tor, err := peertest.NewTorrent("stats.bin", 1<<20, 32<<10, 4)
	require.NoError(t, err)
	synctest.Test(t, func(t *testing.T) {
		net, tr := peertest.NewNetwork(), peertest.NewTracker()
		enc := func(c *peer.Config) { fastTimeouts(c); c.Encryption = mse.Require }
		slowEnc := func(c *peer.Config) { enc(c); c.UploadLimiter = peer.NewLimiter(16 << 10) } // stay connected
		seeder := bubbleNode(t, net, tor, peertest.Options{Announcer: tr, Seed: true, Configure: slowEnc})
		leecher := bubbleNode(t, net, tor, peertest.Options{Announcer: tr, Configure: enc})
		require.True(t, poll(time.Minute, func() bool { return len(seeder.Swarm.Stats().Peers) > 0 }))
		for _, p := range seeder.Swarm.Stats().Peers {
			assert.Equal(t, mse.RC4, p.Encryption)
		}
		require.NoError(t, leecher.Stop())
		require.NoError(t, seeder.Stop())
	})
}

// TestEncryptionFallback: only the leecher dials, so under Prefer it must fall back to plain
// for a seeder that refuses MSE, and under Off or Prefer reach a seeder that requires it only
// the encrypted way.
func TestEncryptionFallback(t *testing.T) {
	tor, err := peertest.NewTorrent("fallback.bin", 200<<10, 32<<10, 5)
	require.NoError(t, err)
	cases := []struct {
		seed, leech mse.Policy
		want        string
		retried     bool
	}{
		{mse.Off, mse.Prefer, "none", true},
		{mse.Require, mse.Prefer, "rc4", false},
		{mse.Prefer, mse.Prefer, "plaintext", false},
	}
	for _, tc := range cases {
		t.Run("seed-"+tc.seed.String(), func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				net := peertest.NewNetwork()
				leechLog := newRecorder()
				seeder := bubbleNode(t, net, tor, peertest.Options{Seed: true,
					Configure: func(c *peer.Config) { fastTimeouts(c); c.Encryption = tc.seed }})
				leecher := bubbleNode(t, net, tor, peertest.Options{Logger: leechLog.logger(),
					Configure: func(c *peer.Config) { fastTimeouts(c); c.Encryption = tc.leech }})
				leecher.Swarm.AddPeers(seeder.Addr)
				awaitComplete(t, leecher, time.Minute)
				connected := leechLog.find(`"peer connected"`)
				assert.Contains(t, connected, "encryption="+tc.want)
				assert.Equal(t, tc.retried, leechLog.find("trying the other way") != "")
				require.NoError(t, leecher.Stop())
				require.NoError(t, seeder.Stop())
			})
		})
	}
}

// TestEncryptedHandshakeStall: an incoming peer that sends its MSE key and then nothing is cut
// off by the session after one handshake step, on fake time, and costs no goroutine after.
func TestEncryptedHandshakeStall(t *testing.T) {
	tor, err := peertest.NewTorrent("stall.bin", 64<<10, 32<<10, 6)
	require.NoError(t, err)
	synctest.Test(t, func(t *testing.T) {
		net := peertest.NewNetwork()
		seeder := bubbleNode(t, net, tor, peertest.Options{Seed: true,
			Configure: func(c *peer.Config) { fastTimeouts(c); c.Encryption = mse.Prefer }})
		c, err := net.Dial(t.Context(), "tcp", seeder.Addr.String())
		require.NoError(t, err)
		defer c.Close()
		start := time.Now()
		_, err = c.Write(append([]byte{0x55}, make([]byte, 95)...)) // a valid public key
		require.NoError(t, err)
		got, err := io.ReadAll(c) // the seeder's key and padding, then its close
		require.NoError(t, err)
		assert.GreaterOrEqual(t, len(got), 96)
		assert.LessOrEqual(t, len(got), 96+512)
		assert.Equal(t, 10*time.Second, time.Since(start), "not cut off after one step")
		require.NoError(t, seeder.Stop())
	})
}
