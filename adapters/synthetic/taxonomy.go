package synthetic

// weighted is a value with a relative weight.
type weighted struct {
	name   string
	weight float64
}

// segmentProfile describes how customers of one segment behave.
type segmentProfile struct {
	name string
	// share of acquired customers.
	share float64
	// monthly revenue range in minor units.
	revenueMin, revenueMax int64
	// complaintRate is the expected complaints per active month.
	complaintRate float64
	// churn is the baseline monthly defection probability.
	churn float64
	// referral is the monthly probability of referring someone.
	referral float64
	// channels preferred by the segment.
	channels []weighted
	// products the segment buys.
	products []weighted
}

var segments = []segmentProfile{
	{"enterprise", 0.06, 250_000, 2_500_000, 0.55, 0.004, 0.010,
		[]weighted{{"phone", 5}, {"email", 4}, {"account-manager", 3}, {"web", 1}},
		[]weighted{{"fiber", 4}, {"business-voice", 3}, {"cloud-backup", 3}, {"mobile", 2}}},
	{"public-sector", 0.04, 150_000, 1_200_000, 0.40, 0.003, 0.004,
		[]weighted{{"email", 5}, {"phone", 3}, {"account-manager", 2}},
		[]weighted{{"fiber", 4}, {"business-voice", 3}, {"mobile", 2}}},
	{"smb", 0.22, 8_000, 60_000, 0.22, 0.012, 0.012,
		[]weighted{{"phone", 5}, {"chat", 3}, {"email", 3}, {"web", 2}, {"store", 1}},
		[]weighted{{"fiber", 4}, {"mobile", 4}, {"business-voice", 2}, {"cloud-backup", 1}}},
	{"consumer", 0.60, 2_500, 12_000, 0.10, 0.016, 0.015,
		[]weighted{{"phone", 4}, {"chat", 4}, {"app", 3}, {"web", 3}, {"store", 2}, {"social", 1}, {"email", 1}},
		[]weighted{{"mobile", 5}, {"fiber", 4}, {"tv", 2}, {"landline", 1}}},
	{"student", 0.08, 1_500, 4_000, 0.08, 0.022, 0.030,
		[]weighted{{"app", 5}, {"chat", 4}, {"social", 2}, {"web", 2}},
		[]weighted{{"mobile", 6}, {"fiber", 2}}},
}

var regions = []weighted{{"north", 3}, {"south", 3}, {"east", 2}, {"west", 2}, {"central", 4}}

// categoryProfile describes one complaint category.
type categoryProfile struct {
	name   string
	weight float64
	// severity is the typical severity (1..5).
	severity int
	// causes are the plausible root causes.
	causes []weighted
	// season multiplies the weight by calendar month (index 0 = January);
	// nil means flat.
	season *[12]float64
}

var (
	winterBills   = [12]float64{1.5, 1.2, 1.0, 0.9, 0.9, 0.9, 0.9, 0.9, 0.95, 1.0, 1.1, 1.3}
	summerStorms  = [12]float64{0.8, 0.8, 0.9, 1.0, 1.1, 1.4, 1.6, 1.5, 1.1, 0.9, 0.8, 0.9}
	holidayRush   = [12]float64{1.1, 0.9, 0.9, 0.9, 0.9, 0.9, 1.0, 1.0, 1.2, 1.0, 1.3, 1.6}
	summerRoaming = [12]float64{0.6, 0.6, 0.7, 0.9, 1.0, 1.5, 2.0, 2.0, 1.1, 0.8, 0.6, 1.0}
)

var categories = []categoryProfile{
	{"billing", 14, 2, []weighted{{"process", 4}, {"system", 3}, {"human-error", 2}}, &winterBills},
	{"network-outage", 9, 4, []weighted{{"infrastructure", 5}, {"weather", 3}, {"third-party", 2}}, &summerStorms},
	{"slow-speed", 9, 3, []weighted{{"infrastructure", 4}, {"capacity", 4}, {"customer-equipment", 2}}, nil},
	{"app-login", 5, 2, []weighted{{"software-defect", 5}, {"system", 2}, {"customer-error", 2}}, nil},
	{"installation-delay", 6, 3, []weighted{{"scheduling", 4}, {"third-party", 3}, {"process", 2}}, nil},
	{"technician-no-show", 4, 3, []weighted{{"scheduling", 5}, {"human-error", 3}}, nil},
	{"contract-terms", 4, 2, []weighted{{"policy", 5}, {"communication", 3}}, nil},
	{"price-increase", 5, 2, []weighted{{"policy", 6}, {"communication", 3}}, &winterBills},
	{"roaming-charges", 4, 2, []weighted{{"policy", 3}, {"system", 2}, {"communication", 3}}, &summerRoaming},
	{"device-fault", 6, 3, []weighted{{"supplier", 5}, {"customer-equipment", 3}}, &holidayRush},
	{"customer-service", 8, 2, []weighted{{"training", 4}, {"staffing", 4}, {"process", 2}}, &holidayRush},
	{"number-porting", 3, 3, []weighted{{"third-party", 4}, {"process", 3}}, nil},
	{"cancellation-process", 3, 3, []weighted{{"policy", 4}, {"process", 4}}, nil},
	{"data-privacy", 1.5, 5, []weighted{{"security", 5}, {"human-error", 2}}, nil},
	{"coverage", 5, 3, []weighted{{"infrastructure", 5}, {"capacity", 2}}, &summerStorms},
	{"refund-delay", 4, 3, []weighted{{"process", 5}, {"system", 2}}, &winterBills},
	{"email-service", 2, 2, []weighted{{"software-defect", 4}, {"third-party", 2}}, nil},
	{"order-error", 3, 2, []weighted{{"human-error", 4}, {"system", 3}}, &holidayRush},
}

var categoryIndex = func() map[string]int {
	m := make(map[string]int, len(categories))
	for i, c := range categories {
		m[c.name] = i
	}
	return m
}()

var resolutions = []weighted{{"fixed", 5}, {"credit", 3}, {"refund", 2}, {"explained", 3}, {"replaced", 1}, {"escalated", 1}}

var defectionReasons = []weighted{{"price", 5}, {"competitor-offer", 4}, {"relocation", 2}, {"no-longer-needed", 2}, {"service-quality", 3}}

// competitors are where defected customers go; a defection names one when
// the customer said so.
var competitors = []weighted{{"rivalnet", 5}, {"fastfiber", 3}, {"cheapmobile", 3}, {"citycable", 2}}

// renewalReasons are why customers say they renewed.
var renewalReasons = []weighted{{"price-lock", 4}, {"service-quality", 3}, {"bundle-discount", 3}, {"no-alternative", 1}, {"loyalty-offer", 2}}

// complaintSeason is the overall monthly shape of complaint volume
// (index 0 = January).
var complaintSeason = [12]float64{1.2, 1.05, 1.0, 0.95, 0.95, 1.0, 1.1, 1.1, 0.95, 1.0, 1.05, 1.15}

// acquisitionSeason is the monthly shape of new customers: back to school,
// Black Friday and January sales.
var acquisitionSeason = [12]float64{1.3, 0.9, 0.9, 0.9, 0.9, 0.8, 0.8, 1.0, 1.4, 1.0, 1.5, 1.2}

// weekdayShape weights complaint days from Sunday to Saturday.
var weekdayShape = [7]float64{0.35, 1.3, 1.15, 1.05, 1.0, 0.95, 0.5}

// hourShape weights complaint hours (UTC) over the day.
var hourShape = [24]float64{0.1, 0.05, 0.05, 0.05, 0.05, 0.1, 0.3, 0.7, 1.2, 1.5, 1.5, 1.4, 1.2, 1.3, 1.4, 1.4, 1.3, 1.2, 1.0, 0.9, 0.7, 0.5, 0.3, 0.2}
