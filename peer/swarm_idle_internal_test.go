package peer

import (
	"context"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/swarm-bt/swarm/metainfo"
	"github.com/swarm-bt/swarm/peer/bitfield"
	"github.com/swarm-bt/swarm/peer/storage"
)

type nopAnnouncer struct{}

func (nopAnnouncer) Announce(context.Context, AnnounceRequest) (AnnounceResponse, error) {
	return AnnounceResponse{}, nil
}

// TestTickPeriod: only a seed with nothing to do ticks slowly.
func TestTickPeriod(t *testing.T) {
	info := &metainfo.Info{Name: "a", PieceLength: 16 << 10, Length: 16 << 10, Pieces: make([]byte, 20)}
	full := bitfield.New(1)
	full.Set(0)
	tests := []struct {
		name   string
		have   bitfield.Bitfield
		ann    Announcer
		adjust func(s *Swarm)
		want   bool
	}{
		{"idle seed", full, nil, func(*Swarm) {}, true},
		{"idle seed, started never sent for want of an announcer", full, nil, func(s *Swarm) { s.ann.queue = []Event{EventStarted} }, true},
		{"leecher", bitfield.New(1), nil, func(*Swarm) {}, false},
		{"a peer connected", full, nil, func(s *Swarm) { s.peers.byID[1] = &peer{} }, false},
		{"dialing", full, nil, func(s *Swarm) { s.peers.dialing = 1 }, false},
		{"announce to send", full, nopAnnouncer{}, func(s *Swarm) { s.ann.queue = []Event{EventStarted} }, false},
		{"announce in flight", full, nopAnnouncer{}, func(s *Swarm) { s.ann.inFlight = true }, false},
		{"disk work", full, nil, func(s *Swarm) { s.disk.queue = []diskJob{{}} }, false},
		{"uploaded in the last seconds", full, nil, func(s *Swarm) { s.traffic.up.add(1); s.traffic.up.tick() }, false},
		{"bytes since the last tick", full, nil, func(s *Swarm) { s.traffic.down.add(1) }, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s, err := New(Config{Info: info, Storage: storage.NewMemory(16 << 10), Have: tc.have, Announcer: tc.ann})
			require.NoError(t, err)
			tc.adjust(s)
			want := tickInterval
			if tc.want {
				want = idleTickInterval
			}
			assert.Equal(t, want, s.tickPeriod())
		})
	}
}
