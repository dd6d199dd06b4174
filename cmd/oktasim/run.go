package main

import (
	"bufio"
	"context"
	"crypto/tls"
	"errors"
	"flag"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"os"
	"strconv"
	"time"

	"github.com/oktasight/oktasight/app/oktasim"
)

const usage = `usage:
  oktasim serve [-addr 127.0.0.1:0] [-tls] [-ca-out FILE] [-token-env NAME] [-backlog N] [-users N]
                [-seed N] [-start RFC3339|-12h] [-span D] [-limit N] [-window 60s] [-live-every D]
                [-faults SPEC] [-fault-seed N] [-slow D]
  oktasim generate [-events N] [-users N] [-seed N] [-start RFC3339|-1d] [-span D] [-out FILE]
  oktasim version
`

// Run is the whole program: it returns the exit code (0 success, 1 failure, 2 usage).
func Run(ctx context.Context, args []string, stdout, stderr io.Writer, getenv func(string) string) int {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return 2
	}
	var err error
	switch args[0] {
	case "serve":
		err = serve(ctx, args[1:], stdout, stderr, getenv)
	case "generate":
		err = generate(args[1:], stdout, stderr)
	case "version":
		fmt.Fprintln(stdout, "oktasim", version)
	case "help", "-h", "-help", "--help":
		fmt.Fprint(stdout, usage)
	default:
		fmt.Fprintf(stderr, "oktasim: unknown command %q\n%s", args[0], usage)
		return 2
	}
	var ue usageError
	switch {
	case err == nil:
		return 0
	case errors.Is(err, flag.ErrHelp):
		return 0
	case errors.As(err, &ue):
		fmt.Fprintf(stderr, "oktasim %s: %v\n", args[0], err)
		return 2
	default:
		fmt.Fprintf(stderr, "oktasim %s: %v\n", args[0], err)
		return 1
	}
}

// usageError is a bad flag or flag value.
type usageError struct{ error }

func parseFlags(fs *flag.FlagSet, args []string) error {
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return err
		}
		return usageError{err}
	}
	if fs.NArg() > 0 {
		return usageError{fmt.Errorf("unexpected arguments %q", fs.Args())}
	}
	return nil
}

// parseStart reads an RFC 3339 time or a time relative to now: -30m, -12h, -7d, -2w.
func parseStart(s string, now time.Time) (time.Time, error) {
	if t, err := time.Parse(time.RFC3339Nano, s); err == nil {
		return t, nil
	}
	if len(s) >= 3 && s[0] == '-' {
		n, err := strconv.Atoi(s[1 : len(s)-1])
		if err == nil && n >= 0 {
			unit := map[byte]time.Duration{'m': time.Minute, 'h': time.Hour, 'd': 24 * time.Hour, 'w': 7 * 24 * time.Hour}[s[len(s)-1]]
			if unit > 0 {
				return now.Add(-time.Duration(n) * unit), nil
			}
		}
	}
	return time.Time{}, usageError{fmt.Errorf("-start %q: want RFC 3339 (2026-11-20T00:00:00Z) or -N with m, h, d or w", s)}
}

// genOptions builds GenOptions from the shared flags; a zero span means "from start until now".
func genOptions(users int, seed uint64, start string, span time.Duration, now time.Time) (oktasim.GenOptions, error) {
	t, err := parseStart(start, now)
	if err != nil {
		return oktasim.GenOptions{}, err
	}
	if span <= 0 {
		span = now.Sub(t)
		if span <= 0 {
			return oktasim.GenOptions{}, usageError{fmt.Errorf("-start %s is in the future: give -span", start)}
		}
	}
	return oktasim.GenOptions{Users: users, Start: t, Span: span, Seed: seed}, nil
}

func generate(args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("generate", flag.ContinueOnError)
	fs.SetOutput(stderr)
	events := fs.Int("events", oktasim.DefaultEvents, "number of events")
	users := fs.Int("users", oktasim.DefaultUsers, "number of users")
	seed := fs.Uint64("seed", 1, "random seed: the same seed and flags give the same bytes")
	start := fs.String("start", oktasim.DefaultStart.Format(time.RFC3339), "earliest published: RFC 3339 or relative (-1d)")
	span := fs.Duration("span", oktasim.DefaultSpan, "events fall in [start, start+span); 0 means until now")
	out := fs.String("out", "", "output file (default stdout)")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if *events <= 0 || *users <= 0 {
		return usageError{errors.New("-events and -users must be positive")}
	}
	opts, err := genOptions(*users, *seed, *start, *span, time.Now())
	if err != nil {
		return err
	}
	opts.Events = *events

	w := stdout
	var f *os.File
	if *out != "" {
		if f, err = os.Create(*out); err != nil {
			return fmt.Errorf("create output: %w", err)
		}
		defer f.Close()
		w = f
	}
	bw := bufio.NewWriterSize(w, 1<<20)
	for _, e := range oktasim.Generate(opts) {
		bw.Write(e)
		bw.WriteByte('\n')
	}
	if err := bw.Flush(); err != nil {
		return fmt.Errorf("write events: %w", err)
	}
	if f != nil {
		if err := f.Close(); err != nil {
			return fmt.Errorf("close %s: %w", *out, err)
		}
	}
	return nil
}

func serve(ctx context.Context, args []string, stdout, stderr io.Writer, getenv func(string) string) error {
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	fs.SetOutput(stderr)
	addr := fs.String("addr", "127.0.0.1:0", "listen address")
	useTLS := fs.Bool("tls", false, "serve HTTPS with a certificate for 127.0.0.1/localhost made at start")
	caOut := fs.String("ca-out", "", "with -tls: write the CA certificate (PEM) clients must trust to this file")
	tokenEnv := fs.String("token-env", "OKTASIM_TOKEN", "environment variable holding the API token clients must send (SSWS)")
	backlog := fs.Int("backlog", oktasim.DefaultEvents, "events in the org's System Log at start")
	users := fs.Int("users", oktasim.DefaultUsers, "number of users")
	seed := fs.Uint64("seed", 1, "random seed of the backlog and of live events")
	start := fs.String("start", "-12h", "published of the oldest backlog event: RFC 3339 or relative (-7d)")
	span := fs.Duration("span", 0, "backlog events fall in [start, start+span); 0 means until now")
	limit := fs.Int("limit", oktasim.DefaultRateLimit, "requests allowed per rate-limit window")
	window := fs.Duration("window", oktasim.DefaultWindow, "rate-limit window")
	liveEvery := fs.Duration("live-every", 0, "append one new event every this long (0: no live events)")
	faultSpec := fs.String("faults", "", `faults to inject, e.g. "500:0.05,truncate:0.02,503@3-4" (kinds: 500, 503, truncate, badjson, slow, 429, 401)`)
	faultSeed := fs.Uint64("fault-seed", 1, "random seed of probabilistic faults")
	slow := fs.Duration("slow", oktasim.DefaultSlowDelay, "delay of a slow fault")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	logger := log.New(stderr, "oktasim ", log.LstdFlags|log.Lmsgprefix)

	token := getenv(*tokenEnv)
	if token == "" {
		return usageError{fmt.Errorf("the token environment variable %s is empty (-token-env)", *tokenEnv)}
	}
	faults, err := oktasim.ParseFaults(*faultSpec)
	if err != nil {
		return usageError{err}
	}
	if *backlog < 0 || *users <= 0 || *limit <= 0 || *window <= 0 || *liveEvery < 0 {
		return usageError{errors.New("-backlog must be >= 0; -users, -limit and -window > 0; -live-every >= 0")}
	}
	if *caOut != "" && !*useTLS {
		return usageError{errors.New("-ca-out needs -tls")}
	}
	now := time.Now()
	opts, err := genOptions(*users, *seed, *start, *span, now)
	if err != nil {
		return err
	}
	var events [][]byte
	if *backlog > 0 {
		opts.Events = *backlog
		events = oktasim.Generate(opts)
	}
	srv, err := oktasim.NewServer(oktasim.Options{
		Token: token, RateLimit: *limit, Window: *window, Faults: faults, FaultSeed: *faultSeed, SlowDelay: *slow,
		Logf: logger.Printf,
	}, events)
	if err != nil {
		return err
	}

	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		return fmt.Errorf("listen: %w", err)
	}
	scheme := "http"
	if *useTLS {
		cfg, caPEM, err := oktasim.SelfSignedTLS(now)
		if err != nil {
			ln.Close()
			return err
		}
		if *caOut != "" {
			if err := os.WriteFile(*caOut, caPEM, 0o644); err != nil {
				ln.Close()
				return fmt.Errorf("write -ca-out: %w", err)
			}
		}
		ln = tls.NewListener(ln, cfg)
		scheme = "https"
	}
	hs := &http.Server{
		Handler:           srv,
		ReadHeaderTimeout: 10 * time.Second,
		ErrorLog:          log.New(stderr, "oktasim http: ", log.LstdFlags),
	}
	serveErr := make(chan error, 1)
	go func() { serveErr <- hs.Serve(ln) }()

	logger.Printf("serving %d events of %d users (%s to %s), rate limit %d per %s, faults %q, live every %s",
		len(events), *users, opts.Start.Format(time.RFC3339), opts.Start.Add(opts.Span).Format(time.RFC3339),
		*limit, *window, *faultSpec, *liveEvery)
	// The one line on stdout: scripts wait for it and read the URL from it.
	if _, err := fmt.Fprintf(stdout, "oktasim listening on %s://%s\n", scheme, ln.Addr()); err != nil {
		hs.Close()
		return fmt.Errorf("write stdout: %w", err)
	}
	if f, ok := stdout.(interface{ Sync() error }); ok {
		_ = f.Sync() // a pipe cannot sync; the line is already written unbuffered
	}

	liveCtx, stopLive := context.WithCancel(ctx)
	defer stopLive()
	if *liveEvery > 0 {
		go func() {
			if err := srv.Live(liveCtx, *liveEvery, oktasim.NewStream(opts)); err != nil && !errors.Is(err, context.Canceled) {
				logger.Printf("live events stopped: %v", err)
			}
		}()
	}

	select {
	case <-ctx.Done():
		logger.Printf("signal received, shutting down")
	case err := <-serveErr:
		return fmt.Errorf("serve: %w", err)
	}
	stopLive()
	shutdownCtx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := hs.Shutdown(shutdownCtx); err != nil {
		hs.Close() // slow responses still held: cut them
	}
	st := srv.Stats()
	logger.Printf("stats requests=%d rate_limited=%d unauthorized=%d bad_requests=%d faults=%d pages=%d events_served=%d max_window_requests=%d events_stored=%d",
		st.Requests, st.RateLimited, st.Unauthorized, st.BadRequests, st.Faults, st.Pages, st.EventsServed, st.MaxWindowRequests, srv.Len())
	return nil
}
