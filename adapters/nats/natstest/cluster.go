package natstest

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// ClusterReadyTimeout bounds the wait for a cluster's JetStream meta leader
// and for a stream leader after a server is killed. nats-server's
// production Raft timings apply outside its own tests (elections after 4 to
// 9 s, quorum declared lost after 10 s), so it allows for a few elections
// on a busy machine.
const ClusterReadyTimeout = 90 * time.Second

// Cluster is a cluster of embedded NATS servers with JetStream, in this
// process, on random loopback ports (client and route), each with its own
// store directory. A server can be killed and restarted on the same ports
// and store, to test fail-over. It is safe for concurrent use.
type Cluster struct {
	tb   testing.TB
	name string

	mu      sync.Mutex
	opts    []*server.Options
	servers []*server.Server // nil while killed
}

// StartCluster starts a cluster of size servers and returns once each
// accepts clients; the JetStream meta leader may not be elected yet (call
// WaitReady, or test what a client does before). Every server is shut down
// when the test ends. PLAINT_TEST_NATS_LOGS=1 shows the servers' logs.
func StartCluster(tb testing.TB, size int) *Cluster {
	tb.Helper()
	c := NewCluster(tb, size)
	c.StartAll()
	return c
}

// NewCluster configures a cluster of size servers (ports drawn, stores
// made) without starting it, so that a test can start clients first and
// then the servers (StartAll), as a deployment does.
func NewCluster(tb testing.TB, size int) *Cluster {
	tb.Helper()
	if size < 1 {
		tb.Fatalf("natstest: cluster size %d", size)
	}
	c := &Cluster{tb: tb, name: "plaint-test", servers: make([]*server.Server, size)}
	// Draw every port first with the listeners held open, so that no two
	// are the same, then free them for the servers.
	ports := make([]int, 2*size)
	var lns []net.Listener
	for i := range ports {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			tb.Fatal(err)
		}
		lns = append(lns, ln)
		ports[i] = ln.Addr().(*net.TCPAddr).Port
	}
	for _, ln := range lns {
		ln.Close()
	}
	routes := make([]string, size)
	for i := range size {
		routes[i] = fmt.Sprintf("nats-route://127.0.0.1:%d", ports[size+i])
	}
	logs := os.Getenv("PLAINT_TEST_NATS_LOGS") != ""
	for i := range size {
		name := fmt.Sprintf("S-%d", i+1)
		c.opts = append(c.opts, &server.Options{
			ServerName: name,
			Host:       "127.0.0.1",
			Port:       ports[i],
			JetStream:  true,
			StoreDir:   tb.TempDir(),
			Cluster:    server.ClusterOpts{Name: c.name, Host: "127.0.0.1", Port: ports[size+i]},
			Routes:     server.RoutesFromStr(strings.Join(routes, ",")),
			Tags:       []string{name},
			NoSigs:     true,
			NoLog:      !logs,
			Debug:      false,
			MaxPayload: 1 << 20,
			// Tests draw their ports from the ephemeral range; a port
			// reused quickly must not fail a restart.
			DisableShortFirstPing: true,
		})
	}
	tb.Cleanup(c.Shutdown)
	return c
}

// StartAll starts every server that is not running, all at once, and
// returns once each accepts clients.
func (c *Cluster) StartAll() {
	c.tb.Helper()
	errs := make([]error, len(c.opts))
	var wg sync.WaitGroup
	for i := range c.opts {
		wg.Add(1)
		go func() { defer wg.Done(); errs[i] = c.start(i) }()
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		c.tb.Fatal(err)
	}
}

// Size returns the number of servers of the cluster, killed ones included.
func (c *Cluster) Size() int { return len(c.opts) }

// URLs returns the client URLs of every server, comma separated: what
// plaint's --nats-url takes for a cluster.
func (c *Cluster) URLs() string {
	urls := make([]string, len(c.opts))
	for i, o := range c.opts {
		urls[i] = fmt.Sprintf("nats://127.0.0.1:%d", o.Port)
	}
	return strings.Join(urls, ",")
}

// URL returns the client URL of server i.
func (c *Cluster) URL(i int) string { return fmt.Sprintf("nats://127.0.0.1:%d", c.opts[i].Port) }

// Kill stops server i at once, without lame-duck mode: its clients lose
// the connection and the cluster must elect new leaders for what it led.
func (c *Cluster) Kill(i int) {
	c.mu.Lock()
	s := c.servers[i]
	c.servers[i] = nil
	c.mu.Unlock()
	if s != nil {
		s.Shutdown()
		s.WaitForShutdown()
	}
}

// Restart starts server i again (or for the first time) on its ports and
// store directory, and waits until it accepts clients.
func (c *Cluster) Restart(i int) {
	c.tb.Helper()
	if err := c.start(i); err != nil {
		c.tb.Fatal(err)
	}
}

func (c *Cluster) start(i int) error {
	c.mu.Lock()
	running := c.servers[i] != nil
	o := c.opts[i].Clone()
	c.mu.Unlock()
	if running {
		return nil
	}
	s, err := server.NewServer(o)
	if err != nil {
		return fmt.Errorf("natstest: server %s: %w", o.ServerName, err)
	}
	if !o.NoLog {
		s.ConfigureLogger()
	}
	s.Start()
	if !s.ReadyForConnections(30 * time.Second) {
		s.Shutdown()
		return fmt.Errorf("natstest: server %s not accepting clients after 30s", o.ServerName)
	}
	c.mu.Lock()
	c.servers[i] = s
	c.mu.Unlock()
	return nil
}

// Shutdown stops every server.
func (c *Cluster) Shutdown() {
	for i := range c.opts {
		c.Kill(i)
	}
}

// running returns the servers that run now.
func (c *Cluster) running() []*server.Server {
	c.mu.Lock()
	defer c.mu.Unlock()
	var out []*server.Server
	for _, s := range c.servers {
		if s != nil {
			out = append(out, s)
		}
	}
	return out
}

// WaitReady waits until the running servers have a JetStream meta leader
// that knows every peer of the cluster and a client's AccountInfo succeeds
// (a leaderless cluster answers the JetStream API with an error, which a
// mere connection check does not see).
func (c *Cluster) WaitReady() {
	c.tb.Helper()
	deadline := time.Now().Add(ClusterReadyTimeout)
	for {
		err := c.ready()
		if err == nil {
			return
		}
		if time.Now().After(deadline) {
			c.tb.Fatalf("natstest: cluster not ready after %s: %v", ClusterReadyTimeout, err)
		}
		time.Sleep(100 * time.Millisecond) // polling a condition
	}
}

func (c *Cluster) ready() error {
	var leader *server.Server
	for _, s := range c.running() {
		if s.JetStreamIsLeader() {
			leader = s
		}
	}
	if leader == nil {
		return errors.New("no JetStream meta leader")
	}
	if n := len(leader.JetStreamClusterPeers()); n != len(c.opts) {
		return fmt.Errorf("the meta leader knows %d of %d peers", n, len(c.opts))
	}
	nc, err := nats.Connect(c.URLs(), nats.Timeout(2*time.Second))
	if err != nil {
		return err
	}
	defer nc.Close()
	js, err := jetstream.New(nc)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	_, err = js.AccountInfo(ctx)
	return err
}

// StreamLeader returns the index of the server leading stream (in the
// global account), or -1 when none does now.
func (c *Cluster) StreamLeader(stream string) int {
	c.mu.Lock()
	defer c.mu.Unlock()
	for i, s := range c.servers {
		if s != nil && s.JetStreamIsStreamLeader(server.DEFAULT_GLOBAL_ACCOUNT, stream) {
			return i
		}
	}
	return -1
}

// WaitStreamLeader waits until a running server leads stream and returns
// its index.
func (c *Cluster) WaitStreamLeader(stream string) int {
	c.tb.Helper()
	deadline := time.Now().Add(ClusterReadyTimeout)
	for {
		if i := c.StreamLeader(stream); i >= 0 {
			return i
		}
		if time.Now().After(deadline) {
			c.tb.Fatalf("natstest: no leader for stream %s after %s", stream, ClusterReadyTimeout)
		}
		time.Sleep(100 * time.Millisecond) // polling a condition
	}
}

// ConsumerLeader returns the index of the server leading consumer of
// stream (in the global account), or -1 when none does now.
func (c *Cluster) ConsumerLeader(stream, consumer string) int {
	c.mu.Lock()
	defer c.mu.Unlock()
	for i, s := range c.servers {
		if s != nil && s.JetStreamIsConsumerLeader(server.DEFAULT_GLOBAL_ACCOUNT, stream, consumer) {
			return i
		}
	}
	return -1
}

// BlackHole makes server i deliver nowhere what its clients publish to
// subject, until restore is called: an account mapping of server i alone
// sends it to a subject that only a subscriber of the test's listens to
// and never answers (so that a request gets neither an answer nor "no
// responders"). A mapping applies where a client's message enters the
// cluster, so the same subject published by a client of another server
// goes where it should. With the JetStream subject of a consumer's pulls,
// $JS.API.CONSUMER.MSG.NEXT.<stream>.<consumer>, the consumer exists and
// answers its info, and every pull of a client on server i goes
// unanswered: no message, no heartbeat.
func (c *Cluster) BlackHole(i int, subject string) (restore func()) {
	c.tb.Helper()
	c.mu.Lock()
	s := c.servers[i]
	c.mu.Unlock()
	if s == nil {
		c.tb.Fatalf("natstest: black hole on server %d, which is not running", i)
	}
	sink := "natstest.blackhole." + nats.NewInbox()[len(nats.InboxPrefix):]
	nc, err := nats.Connect(c.URL(i))
	if err != nil {
		c.tb.Fatal(err)
	}
	if _, err := nc.Subscribe(sink, func(*nats.Msg) {}); err != nil {
		c.tb.Fatal(err)
	}
	if err := nc.Flush(); err != nil {
		c.tb.Fatal(err)
	}
	if err := s.GlobalAccount().AddMapping(subject, sink); err != nil {
		nc.Close()
		c.tb.Fatalf("natstest: map %s: %v", subject, err)
	}
	var once sync.Once
	restore = func() {
		once.Do(func() {
			s.GlobalAccount().RemoveMapping(subject)
			nc.Close()
		})
	}
	c.tb.Cleanup(restore)
	return restore
}
