package peer

import (
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/swarm-bt/swarm/choke"
	"github.com/swarm-bt/swarm/metainfo"
)

func TestConfigSeedPolicy(t *testing.T) {
	tests := []struct {
		name string
		cfg  Config
		want choke.SeedPolicy
	}{
		{"default is round robin", Config{}, choke.SeedRoundRobin},
		{"round robin asked", Config{Choke: choke.Config{SeedPolicy: choke.SeedRoundRobin}}, choke.SeedRoundRobin},
		{"fastest upload asked", Config{SeedFastestUpload: true}, choke.SeedFastestUpload},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c := tc.cfg
			c.Info = &metainfo.Info{Name: "a", PieceLength: 16 << 10, Length: 16 << 10, Pieces: make([]byte, 20)}
			c.setDefaults()
			assert.Equal(t, tc.want, c.Choke.SeedPolicy)
		})
	}
}
