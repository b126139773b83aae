package alerts_test

import (
	"bytes"
	"testing"

	"github.com/plaint/plaint/domain"
	"github.com/plaint/plaint/eventstore"
	"github.com/plaint/plaint/projections"
)

// TestBlocksAndRecordsGiveTheSameAlerts checks that the detector, which
// reads a log of blocks column by column, gives byte for byte the alerts it
// gives on the same events kept as records (format 2), with v0 complaints
// (a free-text topic, upcast to their category) and renewals among them,
// in chunks that cut blocks.
func TestBlocksAndRecordsGiveTheSameAlerts(t *testing.T) {
	evs := history(3, testStart, 3*365-120, testCats[:5], testRise)
	v0 := 0
	for i := range evs {
		switch {
		case evs[i].Data.Category == testRise.cat && i%5 == 0:
			evs[i].Schema, evs[i].Data.Category, evs[i].Data.Topic = 0, "", "line down again"
			v0++
		case i%7 == 0:
			evs[i].Type, evs[i].Data.Category, evs[i].Data.Segment, evs[i].Data.Channel = domain.TypeCustomerRenewed, "", "", ""
		}
	}
	open := func(blocks bool) *eventstore.Log {
		return openLogIn(t, evs, 3000, eventstore.WithBlocks(blocks))
	}
	_, want := detectorEvents(t, open(false), projections.WithChunk(1<<20))
	if bytes.Count(want, []byte("\n")) < 3 || !bytes.Contains(want, []byte(`"series":{"category":"`+testRise.cat+`"}`)) {
		t.Fatalf("too few alerts to compare, or none of the rise (%d v0 complaints):\n%s", v0, want)
	}
	blocks := open(true)
	for _, chunk := range []uint64{1 << 20, 997} {
		if _, got := detectorEvents(t, blocks, projections.WithChunk(chunk)); !bytes.Equal(got, want) {
			t.Fatalf("blocks, chunks of %d records:\n%s\nwant\n%s", chunk, diffLine(got, want), want[:min(len(want), 2000)])
		}
	}
}
