package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"
)

// TestEveryFieldSurvivesIngestAndTail publishes, as a new user would, events
// with fields plaint does not know and extension attributes through a real
// server, then reads them back with log tail (through the server's
// /v1/events, and offline from the data directory): each is JSON-equal to
// what was sent. An offline replay then groups by a custom field and shows
// money as decimals in its currency.
func TestEveryFieldSurvivesIngestAndTail(t *testing.T) {
	at := time.Now().UTC().Add(-48 * time.Hour).Format(time.RFC3339)
	sent := []string{
		`{"specversion":"1.0","id":"f-1","source":"billing","type":"revenue.recorded","time":"` + at + `","subject":"C-1","tenant":"acme","traceparent":"00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01","data":{"customer_id":"C-1","amount":"100.00","currency":"EUR","cost":"70.00","plan":"gold","nps":9}}`,
		`{"specversion":"1.0","id":"f-2","source":"billing","type":"revenue.recorded","time":"` + at + `","data":{"customer_id":"C-2","amount":12.5,"currency":"eur","plan":"silver","nps":7.50,"big":1e400,"neg":-0.0,"tags":["vip",{"since":2019}],"note":null,"ok":true}}`,
		`{"specversion":"1.0","id":"f-3","source":"crm","type":"customer.defected","time":"` + at + `","data":{"customer_id":"C-1","reason":"Price","competitor":"Rival Inc.","segment":"smb","lost_to":{"name":"Rival","country":"DE"}}}`,
		`{"specversion":"1.0","id":"f-4","source":"support","type":"complaint.filed","time":"` + at + `","datacontenttype":"application/json; charset=utf-8","data":{"customer_id":"C-2","category":"Billing / Invoices","Segment":"SMB","severity":"4","caller":"Zoë \u00e9 😀"}}`,
	}
	path := filepath.Join(t.TempDir(), "events.jsonl")
	if err := os.WriteFile(path, []byte(strings.Join(sent, "\n")+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	data := t.TempDir()
	srv := startServer(t, data)
	if code, out, errOut := runMain(t, "emit", "--nats-url", srv.nats, "--file", path); code != 0 {
		t.Fatalf("emit exit %d\n%s\n%s", code, out, errOut)
	}
	waitFor(t, 30*time.Second, "4 events stored", func() bool { return srv.statUint("events") == 4 })
	check := func(how, out string) {
		t.Helper()
		lines := strings.Split(strings.TrimSpace(out), "\n")
		if len(lines) != len(sent) {
			t.Fatalf("%s: %d lines:\n%s", how, len(lines), out)
		}
		for i, line := range lines {
			got, want := jsonValue(t, line), jsonValue(t, sent[i])
			g := got.(map[string]any)
			if g["plaintseq"] != json.Number(fmt.Sprint(i+1)) || g["plaintrecordtime"] == nil {
				t.Fatalf("%s: line %d lacks plaint's attributes: %s", how, i, line)
			}
			delete(g, "plaintseq")
			delete(g, "plaintrecordtime")
			if !reflect.DeepEqual(got, want) {
				t.Errorf("%s: event %d is not what was sent:\nsent %s\ngot  %s", how, i+1, sent[i], line)
			}
		}
	}
	code, out, errOut := runMain(t, "log", "tail", "-n", "10", "--data", data, "--server", srv.http)
	if code != 0 {
		t.Fatalf("log tail through the server: exit %d: %s", code, errOut)
	}
	check("log tail through the server", out)
	srv.term()
	code, out, errOut = runMain(t, "log", "tail", "-n", "10", "--data", data)
	if code != 0 {
		t.Fatalf("log tail offline: exit %d: %s", code, errOut)
	}
	check("log tail offline", out)

	spec := filepath.Join(t.TempDir(), "spec.yaml")
	if err := os.WriteFile(spec, []byte("name: by-plan\nfilter: {types: [revenue.recorded]}\ngroup_by: [plan, currency]\nmeasures: [count, sum:amount, sum:cost, avg:nps]\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	code, out, errOut = runMain(t, "replay", "-f", spec, "--data", data)
	if code != 0 {
		t.Fatalf("replay: exit %d: %s", code, errOut)
	}
	month := at[:7]
	want := "bucket,plan,currency,count,sum_amount,sum_cost,avg_nps\n" +
		month + ",gold,EUR,1,100.00,70.00,9\n" +
		month + ",silver,EUR,1,12.50,,7.5\n"
	if out != want {
		t.Fatalf("replay:\n%s\nwant\n%s", out, want)
	}
}

// jsonValue decodes s with numbers kept as their text.
func jsonValue(t *testing.T, s string) any {
	t.Helper()
	d := json.NewDecoder(bytes.NewReader([]byte(s)))
	d.UseNumber()
	var v any
	if err := d.Decode(&v); err != nil {
		t.Fatalf("not JSON: %v: %s", err, s)
	}
	return v
}
