package storage

import (
	"context"
	"log/slog"

	"github.com/twmb/franz-go/pkg/kgo"
)

// kgoLogger adapts slog to kgo.Logger. kgo's info level logs every
// connection and metadata refresh, so it is shifted down to slog's debug;
// warnings and errors keep their level.
type kgoLogger struct{ l *slog.Logger }

func newKgoLogger(l *slog.Logger) kgo.Logger {
	if l == nil {
		l = slog.Default()
	}
	return kgoLogger{l: l.With("component", "kgo")}
}

func kgoToSlog(level kgo.LogLevel) slog.Level {
	switch level {
	case kgo.LogLevelError:
		return slog.LevelError
	case kgo.LogLevelWarn:
		return slog.LevelWarn
	case kgo.LogLevelInfo:
		return slog.LevelDebug
	default:
		return slog.LevelDebug - 4
	}
}

// Level reports the most verbose kgo level the slog handler accepts, so kgo
// does not format messages that would be dropped.
func (k kgoLogger) Level() kgo.LogLevel {
	ctx := context.Background()
	for _, lvl := range []kgo.LogLevel{kgo.LogLevelDebug, kgo.LogLevelInfo, kgo.LogLevelWarn, kgo.LogLevelError} {
		if k.l.Enabled(ctx, kgoToSlog(lvl)) {
			return lvl
		}
	}
	return kgo.LogLevelNone
}

func (k kgoLogger) Log(level kgo.LogLevel, msg string, keyvals ...any) {
	k.l.Log(context.Background(), kgoToSlog(level), msg, keyvals...)
}
