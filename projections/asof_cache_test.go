package projections

import (
	"context"
	"reflect"
	"testing"
)

// TestAsOfAnswersAreCachedPerDefinitionAndSequence: an "as of" answer is
// computed once per question and sequence, stays equal to a fresh fold as the
// log grows, and is never served for another question.
func TestAsOfAnswersAreCachedPerDefinitionAndSequence(t *testing.T) {
	l, e := openRandomEngine(t, 11, 1500)
	ctx := context.Background()
	at := l.LastSeq() - 200
	q := TrendQuery{By: []Dimension{DimCategory}, AsOf: AsOf{Seq: at}}
	first, err := e.Trends(ctx, q)
	if err != nil {
		t.Fatal(err)
	}
	appendRandom(t, l, newGen(12), 300)
	again, err := e.Trends(ctx, q)
	if err != nil {
		t.Fatal(err)
	}
	if again != first {
		t.Fatal("the same as-of question was folded again")
	}
	fresh := openTestEngine(t, l, "")
	want, err := fresh.Trends(ctx, q)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(first.Rows, want.Rows) || first.AsOfSeq != at {
		t.Fatal("a cached as-of answer differs from a fresh fold at the same sequence")
	}
	other, err := e.Trends(ctx, TrendQuery{By: []Dimension{DimSegment}, AsOf: AsOf{Seq: at}})
	if err != nil {
		t.Fatal(err)
	}
	if other == first || reflect.DeepEqual(other.By, first.By) {
		t.Fatal("a question by segment got the answer by category")
	}
	earlier, err := e.Trends(ctx, TrendQuery{By: []Dimension{DimCategory}, AsOf: AsOf{Seq: at - 500}})
	if err != nil {
		t.Fatal(err)
	}
	if earlier == first || earlier.AsOfSeq != at-500 {
		t.Fatalf("an earlier sequence got the answer at %d", earlier.AsOfSeq)
	}
}
