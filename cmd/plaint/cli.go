package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/alecthomas/kong"

	plainthttp "github.com/plaint/plaint/adapters/http"
	plaintnats "github.com/plaint/plaint/adapters/nats"
	"github.com/plaint/plaint/domain"
	"github.com/plaint/plaint/eventstore"
)

// Globals are the flags every subcommand shares. Each has a PLAINT_*
// environment variable.
type Globals struct {
	Data   string `help:"Data directory (event log, projections, JetStream files)." default:"./data" env:"PLAINT_DATA" type:"path"`
	Server string `help:"URL of a running plaint server, for commands that can ask it. Default: the URL the server holding --data wrote there (http.url), else http://127.0.0.1:8080." env:"PLAINT_SERVER"`

	Token string `help:"Bearer token to send to --server (a line of its --tokens file); prefer the environment variable, which ps does not show." env:"PLAINT_TOKEN"`
	// ServerCA is the CA of an https --server whose certificate the
	// system's roots do not verify.
	ServerCA string `name:"server-ca" help:"CA certificate file (PEM) to verify an https --server with, for a self-signed or private-CA certificate." env:"PLAINT_SERVER_CA" type:"path"`

	Stdout io.Writer       `kong:"-"`
	Stderr io.Writer       `kong:"-"`
	Ctx    context.Context `kong:"-"`

	// DataSet and ServerSet say whether --data and --server were given (on
	// the command line or in the environment) rather than defaulted.
	DataSet, ServerSet bool `kong:"-"`

	check      *serverCheck       // the result of checking --server against --data, once
	httpClient *plainthttp.Client // the client of --server, made once
	serverFrom string             // where --server came from (plainthttp.Discover)
}

// NATSFlags select the NATS server to use instead of the embedded one.
type NATSFlags struct {
	NATSURL      string `name:"nats-url" help:"NATS server or cluster URL(s), comma separated. Empty: serve runs its embedded server; emit connects to nats://127.0.0.1:4222, where that server listens by default." env:"PLAINT_NATS_URL"`
	NATSCreds    string `name:"nats-creds" help:"NATS credentials file." env:"PLAINT_NATS_CREDS" type:"path"`
	NATSUser     string `name:"nats-user" help:"NATS user name." env:"PLAINT_NATS_USER"`
	NATSPassword string `name:"nats-password" help:"NATS password." env:"PLAINT_NATS_PASSWORD"`
	NATSNkey     string `name:"nats-nkey-file" help:"NATS user nkey seed file (nk -gen user): clients sign in with it; serve's embedded server lets in its holder (credentials enough for a --nats-listen beyond loopback)." env:"PLAINT_NATS_NKEY_FILE" type:"path"`
	NATSCA       string `name:"nats-tls-ca" help:"CA certificate file to verify the NATS server." env:"PLAINT_NATS_TLS_CA" type:"path"`
	NATSCert     string `name:"nats-tls-cert" help:"Client certificate file for NATS TLS." env:"PLAINT_NATS_TLS_CERT" type:"path"`
	NATSKey      string `name:"nats-tls-key" help:"Client key file for NATS TLS." env:"PLAINT_NATS_TLS_KEY" type:"path"`
}

// dial connects to NATS at url with the flags' credentials and TLS. Bad
// settings are a usage error, a server that does not answer is
// EUNAVAILABLE.
func (f *NATSFlags) dial(url, name string) (*plaintnats.Client, error) {
	user, password := f.NATSUser, f.NATSPassword
	if f.NATSNkey != "" {
		// serve's embedded server may take both; a client signs in with the nkey.
		user, password = "", ""
	}
	c, err := plaintnats.Connect(plaintnats.ConnConfig{
		URL: url, CredsFile: f.NATSCreds, User: user, Password: password, NkeyFile: f.NATSNkey,
		TLSCA: f.NATSCA, TLSCert: f.NATSCert, TLSKey: f.NATSKey, Name: name,
	})
	if errors.Is(err, plaintnats.ErrConfig) {
		return nil, domain.Errorf(domain.EINVALID, "--nats-url and its credentials: %v", err)
	}
	if err != nil {
		return nil, domain.Errorf(domain.EUNAVAILABLE, "%v", err)
	}
	return c, nil
}

// connect connects a client command to NATS: --nats-url, or the embedded
// server's default address; a server that does not answer is
// EUNAVAILABLE, with a hint.
func (f *NATSFlags) connect(name string) (*plaintnats.Client, error) {
	c, err := f.dial(f.NATSURL, name)
	if domain.ErrorCode(err) == domain.EUNAVAILABLE {
		return nil, domain.Errorf(domain.EUNAVAILABLE, "%v (is `plaint serve` running? --nats-url selects another server)", err)
	}
	return c, err
}

// CLI is the command line of plaint.
type CLI struct {
	Globals
	VersionFlag kong.VersionFlag `name:"version" help:"Print the version and exit."`

	Serve      ServeCmd      `cmd:"" help:"Run the engine: NATS ingest, event log, projections and the HTTP API."`
	Emit       EmitCmd       `cmd:"" help:"Publish events to NATS from a JSONL file, a CSV file with a mapping, or a synthetic history."`
	Log        LogCmd        `cmd:"" help:"Inspect the event log."`
	Verify     VerifyCmd     `cmd:"" help:"Check every record, index and counter of the event log."`
	Backup     BackupCmd     `cmd:"" help:"Write a consistent copy of the event log (works while the server runs)."`
	Trend      TrendCmd      `cmd:"" help:"Month-over-month complaint trends by any dimension."`
	Review     ReviewCmd     `cmd:"" help:"The lost-customer review of a month or quarter: who left, their value, why, the complaints before, whom to call back."`
	Scorecard  ScorecardCmd  `cmd:"" help:"Five metrics by customer group, month by month: new, lost, renewals, revenue and profit, referrals."`
	Linkage    LinkageCmd    `cmd:"" help:"Which complaint categories are followed by defections: rate, lift over customers who did not complain, value lost, revenue at risk."`
	Projection ProjectionCmd `cmd:"" help:"Manage analysts' projections on the running server."`
	Replay     ReplayCmd     `cmd:"" help:"Run a projection spec once, offline, over a data directory or backup file."`
	Alerts     AlertsCmd     `cmd:"" help:"Rising-issue alerts: list, follow, backtest over the log, score against injected rises."`
	DLQ        DLQCmd        `cmd:"" name:"dlq" help:"List, show and replay dead letters (messages the server rejected, with the reason)."`
	Forget     ForgetCmd     `cmd:"" help:"Erase a customer's personal data everywhere plaint keeps it (GDPR art. 17), keeping every aggregate."`
	Version    VersionCmd    `cmd:"" help:"Print the version."`
}

// Main runs plaint's command line. Tests build one with other writers.
type Main struct {
	Stdout, Stderr io.Writer
	Exit           func(int) // kong calls it on --help; tests replace it
}

// NewMain returns a Main writing to the process's stdout and stderr.
func NewMain() *Main { return &Main{Stdout: os.Stdout, Stderr: os.Stderr} }

type exitCode int

// Run parses args, runs the chosen command and returns the exit code:
// 0 success, 1 failure, 2 usage error, 3 data problem (corrupt log, rejected
// events), 4 resource busy (the data directory is in use), 5 refused by the
// server (401 or 403: no token, a wrong one, or one whose role may not).
func (m *Main) Run(ctx context.Context, args []string) (code int) {
	var cli CLI
	cli.Stdout, cli.Stderr, cli.Ctx = m.Stdout, m.Stderr, ctx
	exit := m.Exit
	if exit == nil {
		exit = func(c int) { panic(exitCode(c)) }
	}
	defer func() {
		if r := recover(); r != nil {
			if c, ok := r.(exitCode); ok {
				code = int(c)
				return
			}
			panic(r)
		}
	}()
	parser, err := kong.New(&cli,
		kong.Name("plaint"),
		kong.Description("Event-sourced complaint trend engine: ingest complaint and customer events from NATS, trend them month over month, and act before a rising problem sends customers away."),
		kong.UsageOnError(),
		kong.Writers(m.Stdout, m.Stderr),
		kong.Exit(exit),
		kong.ConfigureHelp(kong.HelpOptions{Compact: true}),
		kong.Vars{"version": versionLine()},
	)
	if err != nil {
		fmt.Fprintln(m.Stderr, "plaint:", err)
		return 1
	}
	kctx, err := parser.Parse(args)
	if err != nil {
		fmt.Fprintln(m.Stderr, "plaint:", err)
		return 2
	}
	for _, p := range kctx.Path {
		if p.Flag != nil {
			cli.DataSet = cli.DataSet || p.Flag.Name == "data"
			cli.ServerSet = cli.ServerSet || p.Flag.Name == "server"
		}
	}
	cli.DataSet = cli.DataSet || os.Getenv("PLAINT_DATA") != ""
	cli.ServerSet = cli.ServerSet || os.Getenv("PLAINT_SERVER") != ""
	cli.Server, cli.serverFrom = plainthttp.Discover(cli.Server, "", cli.Data)
	if err := kctx.Run(&cli.Globals); err != nil {
		fmt.Fprintln(m.Stderr, "plaint:", err)
		return exitCodeOf(err)
	}
	return 0
}

// exitRefused is the exit code of a command the server refused (401 or
// 403).
const exitRefused = 5

// refused reports whether the server refused err's request (401 or 403).
func refused(err error) bool {
	c := domain.ErrorCode(err)
	return c == domain.EUNAUTHORIZED || c == domain.EFORBIDDEN
}

func exitCodeOf(err error) int {
	switch {
	case errors.Is(err, eventstore.ErrLocked):
		return 4
	case errors.Is(err, eventstore.ErrCorrupt), errors.Is(err, eventstore.ErrEmpty), errors.Is(err, errIdentity):
		return 3
	case errors.Is(err, errNoServer):
		return 4
	}
	switch domain.ErrorCode(err) {
	case domain.EINVALID:
		return 2
	case domain.EUNAVAILABLE:
		return 4
	}
	if refused(err) {
		return exitRefused
	}
	return 1
}
