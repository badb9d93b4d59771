package storage

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"sync"
	"syscall"

	"github.com/cockroachdb/pebble/vfs"
	"github.com/twmb/franz-go/pkg/kfake"
)

// BrokerConfig configures the embedded broker.
type BrokerConfig struct {
	// DataDir is where the broker keeps its log, topics, consumer group
	// offsets and producer state. Empty keeps everything in memory (tests);
	// nothing survives Close then.
	DataDir string

	// Addr is the listen address, host:port. Port 0 picks a free port.
	// Default "127.0.0.1:0".
	Addr string

	// AdvertisedAddr is the host:port the broker tells clients to connect
	// to in metadata responses. Default: the listener's address, with an
	// unspecified host (0.0.0.0, ::) replaced by 127.0.0.1. Set it when
	// clients on other machines must reach the broker.
	AdvertisedAddr string

	// AutoCreatePartitions is the partition count of topics created
	// because a client asked for a topic that does not exist (kcat -P to
	// a new topic, any producer with auto-creation on). 0 means 1, like
	// Apache Kafka's num.partitions default. Negative disables automatic
	// topic creation.
	AutoCreatePartitions int32

	// SyncWrites fsyncs every produced batch before acknowledging it.
	// Default off, like Apache Kafka: records are in the OS page cache when
	// acknowledged, so they survive a crash of the process but not of the
	// machine; segments are synced when they roll and on Close.
	SyncWrites bool

	// Logger receives the broker's log. kfake's errors and warnings (which
	// are about persistence failures, corrupt files and late group members)
	// keep their level; its info level logs every request and becomes
	// Debug, its debug level Debug-4. Default slog.Default().
	Logger *slog.Logger
}

// Broker is a Kafka broker running inside the process: franz-go's kfake
// with on-disk persistence (DESIGN.md decision 1). Any Kafka client can
// connect to Addrs.
type Broker struct {
	cluster *kfake.Cluster
	addrs   []string
	lock    io.Closer // held on DataDir while the broker runs
	logger  *kfakeLogger

	closeOnce sync.Once
	closeErr  error
}

// brokerLockFile is taken in DataDir with an OS file lock for the life of
// the broker.
const brokerLockFile = "sluice-broker.lock"

// StartBroker starts the embedded broker and returns once it accepts
// connections. If DataDir holds the state of an earlier run, topics,
// records, committed offsets and producer ids are loaded from it first.
//
// A listen address that is taken fails with *AddrInUseError; a DataDir
// used by another running broker fails with ErrDataDirInUse.
func StartBroker(ctx context.Context, cfg BrokerConfig) (*Broker, error) {
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("start broker: %w", err)
	}
	if cfg.Addr == "" {
		cfg.Addr = "127.0.0.1:0"
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	b := &Broker{logger: &kfakeLogger{l: cfg.Logger}}

	if cfg.DataDir != "" {
		if err := os.MkdirAll(cfg.DataDir, 0o755); err != nil {
			return nil, fmt.Errorf("start broker: %w", err)
		}
		lock, err := vfs.Default.Lock(filepath.Join(cfg.DataDir, brokerLockFile))
		if err != nil {
			var pe *fs.PathError
			if errors.As(err, &pe) {
				return nil, fmt.Errorf("start broker: lock data dir: %w", err)
			}
			return nil, fmt.Errorf("start broker: %w: %s (%v)", ErrDataDirInUse, cfg.DataDir, err)
		}
		b.lock = lock
	}

	// We bind the listener ourselves rather than letting kfake do it:
	// kfake always binds 127.0.0.1 (ignoring the host) and, given port 0,
	// quietly picks another port, so neither a chosen interface nor a
	// "port in use" failure would reach the caller.
	ln, err := net.Listen("tcp", cfg.Addr)
	if err != nil {
		b.releaseLock()
		if errors.Is(err, syscall.EADDRINUSE) {
			return nil, &AddrInUseError{Addr: cfg.Addr, Err: err}
		}
		return nil, fmt.Errorf("start broker: listen on %s: %w", cfg.Addr, err)
	}
	adv, err := advertisedAddr(ln.Addr(), cfg.AdvertisedAddr)
	if err != nil {
		ln.Close()
		b.releaseLock()
		return nil, fmt.Errorf("start broker: %w", err)
	}
	handed := false
	listenFn := func(string, string) (net.Listener, error) {
		// kfake asks once per broker; we run exactly one.
		if handed {
			return nil, errors.New("embedded broker runs a single node")
		}
		handed = true
		return &advertisedListener{Listener: ln, addr: adv}, nil
	}

	opts := []kfake.Opt{
		kfake.NumBrokers(1),
		kfake.ListenFn(listenFn),
		kfake.WithLogger(b.logger),
		kfake.ClusterID("sluice"),
	}
	switch {
	case cfg.AutoCreatePartitions == 0:
		opts = append(opts, kfake.AllowAutoTopicCreation(), kfake.DefaultNumPartitions(1))
	case cfg.AutoCreatePartitions > 0:
		opts = append(opts, kfake.AllowAutoTopicCreation(), kfake.DefaultNumPartitions(int(cfg.AutoCreatePartitions)))
	}
	if cfg.DataDir != "" {
		opts = append(opts, kfake.DataDir(cfg.DataDir))
		if cfg.SyncWrites {
			opts = append(opts, kfake.SyncWrites())
		}
	}
	c, err := kfake.NewCluster(opts...)
	if err != nil {
		// kfake closes the listeners it was given on failure.
		if !handed {
			ln.Close()
		}
		b.releaseLock()
		return nil, fmt.Errorf("start broker: %w", err)
	}
	b.cluster = c
	b.addrs = []string{adv.String()}
	cfg.Logger.Info("embedded kafka broker started", "addr", ln.Addr().String(), "advertised", adv.String(), "data_dir", cfg.DataDir)
	return b, nil
}

// Addrs returns the seed addresses clients should use.
func (b *Broker) Addrs() []string { return append([]string(nil), b.addrs...) }

// Close stops the broker: it stops accepting connections, writes its state
// to DataDir and releases the directory. It reports the errors kfake hit
// while saving. Close clients first: requests in flight when Close starts
// are dropped (except offset commits, which kfake still applies). Close is
// idempotent.
func (b *Broker) Close() error {
	b.closeOnce.Do(func() {
		b.logger.startCapture()
		b.cluster.Close()
		errs := b.logger.stopCapture()
		b.releaseLock()
		if len(errs) > 0 {
			b.closeErr = fmt.Errorf("close broker: %w", errors.Join(errs...))
		}
	})
	return b.closeErr
}

func (b *Broker) releaseLock() {
	if b.lock != nil {
		b.lock.Close()
		b.lock = nil
	}
}

func advertisedAddr(listen net.Addr, configured string) (hostPort, error) {
	_, port, err := net.SplitHostPort(listen.String())
	if err != nil {
		return "", fmt.Errorf("listener address %v: %w", listen, err)
	}
	if configured == "" {
		host := "127.0.0.1"
		if tcp, ok := listen.(*net.TCPAddr); ok && tcp.IP != nil && !tcp.IP.IsUnspecified() {
			host = tcp.IP.String()
		}
		return hostPort(net.JoinHostPort(host, port)), nil
	}
	// Kept as written, not resolved: a DNS name must reach clients as a
	// name (containers, load balancers).
	host, p, err := net.SplitHostPort(configured)
	if err != nil {
		return "", fmt.Errorf("advertised address %q: %w", configured, err)
	}
	if p == "" || p == "0" {
		p = port
	}
	return hostPort(net.JoinHostPort(host, p)), nil
}

// hostPort is a net.Addr that is just a host:port string.
type hostPort string

func (hostPort) Network() string  { return "tcp" }
func (h hostPort) String() string { return string(h) }

// advertisedListener reports the advertised address as its own: kfake
// derives the host and port it puts into metadata responses from the
// listener's Addr.
type advertisedListener struct {
	net.Listener
	addr net.Addr
}

func (l *advertisedListener) Addr() net.Addr { return l.addr }

// kfakeLogger adapts slog to kfake.Logger. During Close it also collects
// the errors kfake logs, because kfake's Close has no error result and
// reports failures to persist state only through its logger.
type kfakeLogger struct {
	l *slog.Logger

	mu        sync.Mutex
	capturing bool
	captured  []error
}

func (k *kfakeLogger) Logf(level kfake.LogLevel, format string, args ...any) {
	var lvl slog.Level
	switch level {
	case kfake.LogLevelError:
		lvl = slog.LevelError
	case kfake.LogLevelWarn:
		lvl = slog.LevelWarn
	case kfake.LogLevelInfo:
		lvl = slog.LevelDebug
	default:
		lvl = slog.LevelDebug - 4
	}
	if level == kfake.LogLevelError {
		k.mu.Lock()
		if k.capturing {
			k.captured = append(k.captured, fmt.Errorf(format, args...))
		}
		k.mu.Unlock()
	}
	if k.l.Enabled(context.Background(), lvl) {
		k.l.Log(context.Background(), lvl, fmt.Sprintf(format, args...), "component", "kfake")
	}
}

func (k *kfakeLogger) startCapture() {
	k.mu.Lock()
	k.capturing = true
	k.mu.Unlock()
}

func (k *kfakeLogger) stopCapture() []error {
	k.mu.Lock()
	defer k.mu.Unlock()
	k.capturing = false
	errs := k.captured
	k.captured = nil
	return errs
}
