// Package redistest starts real redis-server processes on loopback for tests: one server, or
// a three-node Redis Cluster. A missing redis-server skips the test, or fails it under
// SWARM_INTEROP=1.
package redistest

import (
	"bufio"
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// Server is a redis-server process started for a test.
type Server struct {
	Addr string // 127.0.0.1:PORT
	Dir  string
	cmd  *exec.Cmd
	args []string
	t    testing.TB
}

// need skips or fails the test when a tool is missing.
func need(t testing.TB, tools ...string) {
	t.Helper()
	for _, tool := range tools {
		if _, err := exec.LookPath(tool); err != nil {
			if os.Getenv("SWARM_INTEROP") == "1" {
				t.Fatalf("SWARM_INTEROP=1 but %s is missing: %v", tool, err)
			}
			t.Skipf("%s not installed", tool)
		}
	}
}

// FreePort returns a TCP port free on 127.0.0.1 at the time of the call.
func FreePort(t testing.TB) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("free port: %v", err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}

// clusterPort returns a port that is free on 127.0.0.1 together with port+10000, the cluster
// bus port Redis derives from it.
func clusterPort(t testing.TB) int {
	t.Helper()
	for range 100 {
		p := FreePort(t)
		if p+10000 > 65535 {
			p = 20000 + p%20000
		}
		a, err := net.Listen("tcp", "127.0.0.1:"+strconv.Itoa(p))
		if err != nil {
			continue
		}
		b, err := net.Listen("tcp", "127.0.0.1:"+strconv.Itoa(p+10000))
		a.Close()
		if err != nil {
			continue
		}
		b.Close()
		return p
	}
	t.Fatal("no free port pair for a cluster node")
	return 0
}

// Start runs redis-server on a free loopback port, without persistence, until the test ends.
func Start(t testing.TB, extra ...string) *Server {
	t.Helper()
	need(t, "redis-server", "redis-cli")
	port := FreePort(t)
	if strings.Contains(strings.Join(extra, " "), "--cluster-enabled yes") {
		port = clusterPort(t)
	}
	dir := t.TempDir()
	s := &Server{Addr: "127.0.0.1:" + strconv.Itoa(port), Dir: dir, t: t,
		args: append([]string{"--port", strconv.Itoa(port), "--bind", "127.0.0.1", "--save", "",
			"--appendonly", "no", "--dir", dir, "--logfile", filepath.Join(dir, "redis.log")}, extra...)}
	s.Restart()
	t.Cleanup(s.Kill)
	return s
}

// URL is the store URL of the server, database 0.
func (s *Server) URL() string { return "redis://" + s.Addr + "/0" }

// Restart starts the server again after Kill (same port, empty data) and waits until it
// answers.
func (s *Server) Restart() {
	s.t.Helper()
	s.cmd = exec.Command("redis-server", s.args...)
	s.cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if err := s.cmd.Start(); err != nil {
		s.t.Fatalf("start redis-server: %v", err)
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		if out, err := s.CLI("PING"); err == nil && strings.TrimSpace(out) == "PONG" {
			return
		}
		if time.Now().After(deadline) {
			log, _ := os.ReadFile(filepath.Join(s.Dir, "redis.log"))
			s.t.Fatalf("redis-server on %s did not answer within 10 s:\n%s", s.Addr, log)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// Kill stops the server with SIGKILL, as a crash would, and waits for it to exit.
func (s *Server) Kill() {
	if s.cmd == nil || s.cmd.Process == nil {
		return
	}
	_ = s.cmd.Process.Kill()
	_ = s.cmd.Process.Signal(syscall.SIGCONT)
	_ = s.cmd.Wait()
	s.cmd = nil
}

// Pause freezes the server (SIGSTOP): connections stay open but nothing is answered, as
// with an overloaded or partitioned Redis. Resume undoes it.
func (s *Server) Pause() { _ = s.cmd.Process.Signal(syscall.SIGSTOP) }

// Resume continues a paused server.
func (s *Server) Resume() { _ = s.cmd.Process.Signal(syscall.SIGCONT) }

// CLI runs redis-cli against the server with a 10 s limit and returns its output.
func (s *Server) CLI(args ...string) (string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	host, port, _ := net.SplitHostPort(s.Addr)
	out, err := exec.CommandContext(ctx, "redis-cli", append([]string{"-h", host, "-p", port}, args...)...).CombinedOutput()
	return string(out), err
}

// Info returns one field of INFO (e.g. "used_memory").
func (s *Server) Info(section, field string) (string, error) {
	out, err := s.CLI("INFO", section)
	if err != nil {
		return "", err
	}
	sc := bufio.NewScanner(strings.NewReader(out))
	for sc.Scan() {
		if k, v, ok := strings.Cut(strings.TrimSpace(sc.Text()), ":"); ok && k == field {
			return v, nil
		}
	}
	return "", fmt.Errorf("INFO %s has no %s", section, field)
}

// Cluster is a three-master Redis Cluster on loopback.
type Cluster struct {
	Nodes []*Server
}

// URL is the store URL naming every node.
func (c *Cluster) URL() string {
	var addrs []string
	for _, n := range c.Nodes {
		addrs = append(addrs, n.Addr)
	}
	return "redis-cluster://" + strings.Join(addrs, ",")
}

// StartCluster runs three redis-server nodes with cluster mode on, joins them with
// redis-cli --cluster create (three masters, no replicas) and waits until the cluster is ok.
func StartCluster(t testing.TB) *Cluster {
	t.Helper()
	need(t, "redis-server", "redis-cli")
	c := &Cluster{}
	for range 3 {
		c.Nodes = append(c.Nodes, Start(t, "--cluster-enabled", "yes", "--cluster-config-file", "nodes.conf",
			"--cluster-node-timeout", "2000"))
	}
	args := []string{"--cluster", "create"}
	for _, n := range c.Nodes {
		args = append(args, n.Addr)
	}
	args = append(args, "--cluster-replicas", "0", "--cluster-yes")
	if out, err := c.Nodes[0].CLI(args...); err != nil {
		t.Fatalf("redis-cli --cluster create: %v\n%s", err, out)
	}
	deadline := time.Now().Add(20 * time.Second)
	for {
		ok := true
		for _, n := range c.Nodes {
			if out, err := n.CLI("CLUSTER", "INFO"); err != nil || !strings.Contains(out, "cluster_state:ok") {
				ok = false
			}
		}
		if ok {
			return c
		}
		if time.Now().After(deadline) {
			t.Fatalf("redis cluster not ok within 20 s")
		}
		time.Sleep(100 * time.Millisecond)
	}
}
