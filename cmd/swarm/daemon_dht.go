package main

import (
	"context"
	"errors"
	"fmt"
	"net"
	"path/filepath"
	"strconv"
	"syscall"

	"github.com/spf13/cobra"

	"github.com/swarm-bt/swarm/daemon"
	"github.com/swarm-bt/swarm/dht"
)

// daemonDHT is the daemon's DHT node and the UDP socket it owns.
type daemonDHT struct {
	node  *dht.Node
	conn  net.PacketConn
	state string // DATA/dht.dat: the routing table kept across restarts
}

func (dd *daemonDHT) close(a *app) {
	if dd == nil {
		return
	}
	saveDHTState(dd.state, dd.node, a.logger)
	_ = dd.conn.Close()
}

// newDaemonWithDHT makes the daemon and, unless --no-dht, its DHT node on a UDP socket with
// the same port number as the peer port (BEP 5 peers expect that). A default peer port that
// is taken falls back to a free one, for both.
func newDaemonWithDHT(ctx context.Context, a *app, cmd *cobra.Command, f *daemonFlags, dcfg daemon.Config) (*daemon.Daemon, *daemonDHT, error) {
	explicit := cmd.Flags().Changed("port")
	for attempt := 0; ; attempt++ {
		var dd *daemonDHT
		if !f.noDHT {
			var err error
			if dd, err = f.openDHT(ctx, a, dcfg.Port); err != nil {
				if errors.Is(err, syscall.EADDRINUSE) && !explicit && attempt == 0 {
					dcfg.Port = 0
					continue
				}
				return nil, nil, err
			}
			dcfg.DHT = dd.node
			dcfg.Port = dd.conn.LocalAddr().(*net.UDPAddr).Port
		}
		d, err := daemon.New(dcfg)
		if err == nil {
			return d, dd, nil
		}
		dd.close(a)
		if !errors.Is(err, syscall.EADDRINUSE) || explicit || attempt >= 2 {
			return nil, nil, err
		}
		a.logger.Info("peer port taken, using a free one", "err", err)
		dcfg.Port = 0
	}
}

// openDHT listens on UDP and makes the node, bootstrapped from --dht-bootstrap (the public
// routers by default) or from the saved table.
func (f *daemonFlags) openDHT(ctx context.Context, a *app, port int) (*daemonDHT, error) {
	conn, err := net.ListenPacket("udp", net.JoinHostPort(f.bind, strconv.Itoa(port)))
	if err != nil {
		return nil, fmt.Errorf("dht: %w", err)
	}
	boot, err := resolveNodes(ctx, f.dhtBootstrap, a.logger)
	if err != nil {
		conn.Close()
		return nil, fmt.Errorf("--dht-bootstrap: %w", err)
	}
	dd := &daemonDHT{conn: conn, state: filepath.Join(f.data, "dht.dat")}
	cfg := dht.Config{Conn: conn, Bootstrap: boot, Logger: a.logger}
	loadDHTState(dd.state, &cfg, a.logger)
	if dd.node, err = dht.New(cfg); err != nil {
		conn.Close()
		return nil, fmt.Errorf("dht: %w", err)
	}
	return dd, nil
}
