package tracker

import (
	"context"
	"errors"

	"github.com/prometheus/client_golang/prometheus"
)

// metrics are the server's Prometheus collectors, registered on the injected registry.
// Label values are a fixed set, resolved once, so that requests do no label lookups.
type metrics struct {
	reg             *prometheus.Registry
	announces       [4]prometheus.Counter // by Event
	scrapes         prometheus.Counter
	failureVec      *prometheus.CounterVec
	announceSeconds prometheus.Observer
}

func newMetrics(reg *prometheus.Registry, st Store) (*metrics, error) {
	ann := prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "swarm_tracker_announces_total", Help: "Announces answered, by event.",
	}, []string{"event"})
	m := &metrics{
		reg: reg,
		scrapes: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "swarm_tracker_scrapes_total", Help: "Scrapes answered.",
		}),
		failureVec: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "swarm_tracker_failures_total", Help: "Requests answered with a failure reason, by kind.",
		}, []string{"kind"}),
	}
	for ev := EventNone; ev <= EventStopped; ev++ {
		name := ev.String()
		if name == "" {
			name = "none"
		}
		m.announces[ev] = ann.WithLabelValues(name)
	}
	hist := prometheus.NewHistogram(prometheus.HistogramOpts{
		Name:    "swarm_tracker_announce_duration_seconds",
		Help:    "Time to answer an announce.",
		Buckets: prometheus.ExponentialBuckets(10e-6, 4, 8),
	})
	m.announceSeconds = hist
	swarms := prometheus.NewGaugeFunc(prometheus.GaugeOpts{
		Name: "swarm_tracker_swarms", Help: "Swarms in the store.",
	}, func() float64 { return float64(totals(st).Swarms) })
	peers := prometheus.NewGaugeFunc(prometheus.GaugeOpts{
		Name: "swarm_tracker_peers", Help: "Peers in the store.",
	}, func() float64 { return float64(totals(st).Peers) })
	var errs []error
	for _, c := range []prometheus.Collector{ann, m.scrapes, m.failureVec, hist, swarms, peers} {
		errs = append(errs, reg.Register(c))
	}
	return m, errors.Join(errs...)
}

func (m *metrics) failures(kind string) prometheus.Counter {
	return m.failureVec.WithLabelValues(kind)
}

// totals reads a store's totals for a gauge. Prometheus gives collectors no context, and
// Totals is cheap and local by contract (Redis keeps the figures of its last sweep).
func totals(st Store) Totals {
	t, _ := st.Totals(context.Background())
	return t
}
