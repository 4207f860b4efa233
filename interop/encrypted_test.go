package interop

import (
	"context"
	"os"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestEncrypted runs swarm against each reference client in both directions, twice: swarm with
// its default policy (prefer) against the client set to require encryption with RC4
// (libtorrent: out_enc_policy and in_enc_policy forced, allowed_enc_level rc4; aria2:
// --bt-require-crypto=true --bt-min-crypto-level=arc4; Transmission: "encryption": 2), and
// swarm with --encryption require against the client's defaults. Either way one end refuses
// anything but MSE/RC4, so a complete download with every sha256 right is an encrypted
// transfer; swarm's log must also name the method. The payload is the small single file, and
// the cases run in parallel.
func TestEncrypted(t *testing.T) {
	interopOnly(t)
	var single *payload
	for _, p := range env.payloads {
		if p.Label == "single" {
			single = p
		}
	}
	require.NotNil(t, single)
	for _, swarmRequires := range []bool{false, true} {
		for _, ref := range []string{"libtorrent", "aria2", "transmission"} {
			for _, swarmSeeds := range []bool{true, false} {
				sw, swarmLog := swarmKind(swarmRequires)
				other := requiring(ref)
				if swarmRequires {
					other = defaultKind(ref)
				}
				pr := pair{tracker: kindSwarmTracker, payload: single, seeder: sw, leecher: other}
				if !swarmSeeds {
					pr.seeder, pr.leecher = other, sw
				}
				t.Run(pr.name(), func(t *testing.T) {
					start(t)
					transfer(t, pr)
					data, err := os.ReadFile((*swarmLog).log)
					require.NoError(t, err)
					assert.True(t, strings.Contains(string(data), "encryption=rc4"),
						"swarm's log names no RC4 connection")
				})
			}
		}
	}
}

// TestEncryptedHeaderOnly: libtorrent forced to MSE with only the plaintext method (an
// obfuscated handshake, then plain messages) against swarm's default policy, both directions:
// swarm must select or accept that method, and its log must say so.
func TestEncryptedHeaderOnly(t *testing.T) {
	interopOnly(t)
	var single *payload
	for _, p := range env.payloads {
		if p.Label == "single" {
			single = p
		}
	}
	require.NotNil(t, single)
	lt := *kindLibtorrent
	lt.name = "libtorrent-header"
	lt.seed = func(t *testing.T, ctx context.Context, tf *torrentFile, dir string, h host) *node {
		return seedLibtorrentWith(t, ctx, tf, dir, h, "--encryption", "header")
	}
	lt.leech = func(t *testing.T, ctx context.Context, tf *torrentFile, dir string, h host) *node {
		return leechLibtorrentWith(t, ctx, tf, dir, h, "--encryption", "header")
	}
	for _, swarmSeeds := range []bool{true, false} {
		sw, swarmLog := swarmKind(false)
		pr := pair{tracker: kindSwarmTracker, payload: single, seeder: sw, leecher: &lt}
		if !swarmSeeds {
			pr.seeder, pr.leecher = &lt, sw
		}
		t.Run(pr.name(), func(t *testing.T) {
			start(t)
			transfer(t, pr)
			data, err := os.ReadFile((*swarmLog).log)
			require.NoError(t, err)
			assert.True(t, strings.Contains(string(data), "encryption=plaintext"),
				"swarm's log names no connection with the plaintext method")
		})
	}
}

// swarmKind is swarm with its default policy or with --encryption require; the returned
// pointer is set to its process once a role starts.
func swarmKind(requires bool) (*clientKind, **proc) {
	var p *proc
	var flags []string
	name := "swarm"
	if requires {
		flags, name = []string{"--encryption", "require"}, "swarm-require"
	}
	return &clientKind{name: name,
		seed: func(t *testing.T, ctx context.Context, tf *torrentFile, dir string, h host) *node {
			n := seedSwarmWith(t, ctx, tf, dir, h, flags...)
			p = n.procs[0]
			return n
		},
		leech: func(t *testing.T, ctx context.Context, tf *torrentFile, dir string, h host) *node {
			n := leechSwarmWith(t, ctx, tf, dir, h, flags...)
			p = n.procs[0]
			return n
		},
		usesTrackerPeers: true, seedDialsOut: true}, &p
}

// defaultKind returns the reference client ref with its default encryption settings.
func defaultKind(ref string) *clientKind {
	switch ref {
	case "libtorrent":
		return kindLibtorrent
	case "aria2":
		return kindAria2
	}
	return kindTransmission
}

// requiring returns the reference client ref set to require RC4 encryption both ways.
func requiring(ref string) *clientKind {
	switch ref {
	case "libtorrent":
		k := *kindLibtorrent
		k.seed = func(t *testing.T, ctx context.Context, tf *torrentFile, dir string, h host) *node {
			return seedLibtorrentWith(t, ctx, tf, dir, h, "--encryption", "require")
		}
		k.leech = func(t *testing.T, ctx context.Context, tf *torrentFile, dir string, h host) *node {
			return leechLibtorrentWith(t, ctx, tf, dir, h, "--encryption", "require")
		}
		k.name = "libtorrent-require"
		return &k
	case "aria2":
		flags := []string{"--bt-require-crypto=true", "--bt-min-crypto-level=arc4"}
		k := *kindAria2
		k.seed = func(t *testing.T, ctx context.Context, tf *torrentFile, dir string, h host) *node {
			return seedAria2With(t, ctx, tf, dir, h, flags...)
		}
		k.leech = func(t *testing.T, ctx context.Context, tf *torrentFile, dir string, h host) *node {
			return leechAria2With(t, ctx, tf, dir, h, flags...)
		}
		k.name = "aria2-require"
		return &k
	}
	settings := map[string]any{"encryption": 2} // required
	k := *kindTransmission
	k.seed = func(t *testing.T, ctx context.Context, tf *torrentFile, dir string, h host) *node {
		return seedTransmissionWith(t, ctx, tf, dir, h, settings)
	}
	k.leech = func(t *testing.T, ctx context.Context, tf *torrentFile, dir string, h host) *node {
		return leechTransmissionWith(t, ctx, tf, dir, h, settings)
	}
	k.name = "transmission-require"
	return &k
}
