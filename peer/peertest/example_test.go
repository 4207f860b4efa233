package peertest_test

import (
	"context"
	"fmt"

	"github.com/swarm-bt/swarm/peer/peertest"
)

// A seeder and a leecher on loopback TCP find each other through the in-memory tracker.
func Example() {
	ctx := context.Background()
	tor, err := peertest.NewTorrent("example.bin", 1<<20, 64<<10, 1)
	if err != nil {
		panic(err)
	}
	tr := peertest.NewTracker()
	seeder, err := peertest.Start(ctx, tor, peertest.Options{Announcer: tr, Seed: true})
	if err != nil {
		panic(err)
	}
	defer seeder.Stop()
	leecher, err := peertest.Start(ctx, tor, peertest.Options{Announcer: tr})
	if err != nil {
		panic(err)
	}
	<-leecher.Swarm.Completed()
	fmt.Println("same bytes:", tor.Compare(leecher.Storage) == nil)
	fmt.Println("stopped cleanly:", leecher.Stop() == nil)
	// Output:
	// same bytes: true
	// stopped cleanly: true
}
