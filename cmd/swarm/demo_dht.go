package main

import (
	"context"
	"fmt"
	"net"
	"net/netip"
	"strconv"
	"time"

	"github.com/swarm-bt/swarm/dht"
	"github.com/swarm-bt/swarm/metainfo"
	"github.com/swarm-bt/swarm/peer"
)

// demoDHT is the DHT of `swarm demo --trackerless`: one bootstrap node on 127.0.0.1 and a
// node per demo node, on its peer port's number, that finds and announces the torrent.
type demoDHT struct {
	a     *app
	boot  *dhtService
	nodes []*dhtService
}

func startDemoDHT(ctx context.Context, a *app) (*demoDHT, error) {
	conn, err := net.ListenPacket("udp4", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("demo dht: %w", err)
	}
	boot, err := runDHTNode(ctx, a, dht.Config{Conn: conn, Logger: a.logger.With("node", "dht bootstrap")}, "")
	if err != nil {
		return nil, err
	}
	return &demoDHT{a: a, boot: boot}, nil
}

func (d *demoDHT) addr() netip.AddrPort { return d.boot.conn.LocalAddr().(*net.UDPAddr).AddrPort() }

// join gives a demo node its DHT node, on the UDP port of its TCP port's number when free,
// and wires it into the node's session config.
func (d *demoDHT) join(ctx context.Context, name string, port int, sc *peer.SessionConfig) (*dhtService, error) {
	conn, err := net.ListenPacket("udp4", net.JoinHostPort("127.0.0.1", strconv.Itoa(port)))
	if err != nil {
		if conn, err = net.ListenPacket("udp4", "127.0.0.1:0"); err != nil {
			return nil, fmt.Errorf("%s: dht: %w", name, err)
		}
	}
	svc, err := runDHTNode(ctx, d.a, dht.Config{
		Conn: conn, Bootstrap: []netip.AddrPort{d.addr()}, Logger: d.a.logger.With("node", name+" dht"),
	}, "")
	if err != nil {
		return nil, err
	}
	d.nodes = append(d.nodes, svc)
	sc.DHTPort, sc.OnDHTPort = svc.port(), svc.addNode()
	return svc, nil
}

func (d *demoDHT) close() {
	if d == nil {
		return
	}
	for _, n := range d.nodes {
		n.close()
	}
	d.boot.close()
}

// trackDemo starts the DHT lookups of a demo node's swarm.
func trackDemo(ctx context.Context, svc *dhtService, sw *peer.Swarm, mi *metainfo.MetaInfo, port uint16) {
	svc.track(ctx, sw, mi.InfoHash, port)
}

// runEarly starts the node's session before the others; stop ends it.
func (n *demoNode) runEarly(ctx context.Context) {
	ctx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() {
		defer close(done)
		_ = n.sess.Run(ctx)
	}()
	n.stop = func() { cancel(); <-done }
}

// fetchMagnet is what a leecher given only a magnet link does: find peers through the DHT
// (a node of its own, bootstrapped from the demo's bootstrap node), fetch the info
// dictionary from them (BEP 9) and check it against the info-hash.
func (d *demoDHT) fetchMagnet(ctx context.Context, name string, ih metainfo.Hash) (*metainfo.MetaInfo, error) {
	mg, err := metainfo.ParseMagnet("magnet:?xt=urn:btih:" + ih.String())
	if err != nil {
		return nil, err
	}
	conn, err := net.ListenPacket("udp4", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("%s: dht: %w", name, err)
	}
	svc, err := runDHTNode(ctx, d.a, dht.Config{
		Conn: conn, Bootstrap: []netip.AddrPort{d.addr()}, Logger: d.a.logger.With("node", name+" magnet dht"),
	}, "")
	if err != nil {
		return nil, err
	}
	defer svc.close()
	info, _, err := peer.FetchMetadata(ctx, peer.MetadataConfig{
		InfoHash: ih, Announcer: svc.announcer(), Logger: d.a.logger.With("node", name),
		Timeouts: peer.Timeouts{MinAnnounce: 200 * time.Millisecond},
	})
	if err != nil {
		return nil, fmt.Errorf("%s: magnet: %w", name, err)
	}
	return metainfo.FromMagnet(mg, info)
}
