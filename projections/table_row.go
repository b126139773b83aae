package projections

import "sort"

// tableRow is a cell of a bucketed fold on its way into a Table: its
// bucket, the values of its group and the cell.
type tableRow[C any] struct {
	b    int32
	keys []string
	cell C
}

// sortTableRows orders rows by bucket, then by the values of their group.
func sortTableRows[C any](rows []tableRow[C]) {
	sort.Slice(rows, func(i, j int) bool {
		if rows[i].b != rows[j].b {
			return rows[i].b < rows[j].b
		}
		return lessStrings(rows[i].keys, rows[j].keys)
	})
}
