package interop

import "testing"

// TestMatrix runs every seeder/leecher pair in which swarm plays at least one role, through
// both trackers, for every payload.
func TestMatrix(t *testing.T) {
	interopOnly(t)
	for _, pr := range pairs(trackerKinds, func(s, l *clientKind) bool {
		return s == kindSwarm || l == kindSwarm
	}) {
		t.Run(pr.name(), func(t *testing.T) {
			start(t)
			transfer(t, pr)
		})
	}
}

// TestReferencePairs runs pairs of reference clients: through the swarm tracker they are
// evidence for the tracker alone; through opentracker they check the harness itself, so a
// failure elsewhere can be told apart from a harness problem.
func TestReferencePairs(t *testing.T) {
	interopOnly(t)
	for _, pr := range pairs(trackerKinds, func(s, l *clientKind) bool {
		return s != kindSwarm && l != kindSwarm
	}) {
		if pr.payload.Label != "multi" {
			continue
		}
		t.Run(pr.name(), func(t *testing.T) {
			start(t)
			transfer(t, pr)
		})
	}
}

// pairs lists the cases for the given trackers whose seeder and leecher keep says yes to.
func pairs(trackers []*trackerKind, keep func(s, l *clientKind) bool) []pair {
	var out []pair
	for _, tr := range trackers {
		for _, s := range clientKinds {
			for _, l := range clientKinds {
				if !keep(s, l) {
					continue
				}
				for _, p := range env.payloads {
					out = append(out, pair{tracker: tr, seeder: s, leecher: l, payload: p})
				}
			}
		}
	}
	return out
}
