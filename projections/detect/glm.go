package detect

import (
	"errors"
	"fmt"
	"math"

	"gonum.org/v1/gonum/mat"
	"gonum.org/v1/gonum/stat/distuv"
)

// ErrNoFit is returned when the quasi-Poisson GLM cannot be fitted: fewer
// observations than coefficients, a rank-deficient design, or no
// convergence within the iteration limit.
var ErrNoFit = errors.New("quasi-Poisson fit failed")

// glmFit is a fitted quasi-Poisson log-linear model, with what the Farrington
// method reads from R's glm and summary.glm objects.
type glmFit struct {
	coef       []float64
	mu         []float64 // fitted means
	hat        []float64 // diagonal of the hat matrix (R's hatvalues)
	cov        *mat.Dense
	dispersion float64 // Pearson chi-square / residual df (summary.glm), not floored
	dfResidual int
	deviance   float64
	iterations int
	converged  bool
}

// glm settings as in R's glm.control().
const (
	glmEpsilon = 1e-8
	glmMaxIter = 25
)

// fitQuasiPoisson fits log E[y] = X·beta by iteratively reweighted least
// squares with prior weights w (nil: all 1), following R's glm.fit for the
// quasipoisson family: start from mu = y + 0.1, working response
// z = eta + (y-mu)/mu, working weights w·mu, each step a weighted
// least-squares solve (normal equations, Cholesky), stop when |dev - dev_old|/(|dev| + 0.1) < 1e-8 (at most 25
// iterations). The dispersion is sum(w·(y-mu)²/mu)/(n - p) as summary.glm
// reports it.
func fitQuasiPoisson(x *mat.Dense, y, w []float64) (*glmFit, error) {
	n, p := x.Dims()
	if len(y) != n || (w != nil && len(w) != n) {
		return nil, fmt.Errorf("%w: %d rows, %d responses, %d weights", ErrNoFit, n, len(y), len(w))
	}
	if n <= p {
		return nil, fmt.Errorf("%w: %d observations for %d coefficients", ErrNoFit, n, p)
	}
	if w == nil {
		w = make([]float64, n)
		for i := range w {
			w[i] = 1
		}
	}
	eta := make([]float64, n)
	mu := make([]float64, n)
	for i := range y {
		mu[i] = y[i] + 0.1
		eta[i] = math.Log(mu[i])
	}
	devOld := poissonDeviance(y, mu, w)
	xd := x.RawMatrix()
	row := func(i int) []float64 { return xd.Data[i*xd.Stride : i*xd.Stride+p] }
	sw := make([]float64, n) // working weights w·mu of the current iteration
	ata := mat.NewSymDense(p, nil)
	atz := mat.NewVecDense(p, nil)
	beta := mat.NewVecDense(p, nil)
	var chol mat.Cholesky
	fit := &glmFit{}
	muOld := make([]float64, n) // mu at the start of the last iteration: R's working weights
	for iter := 1; iter <= glmMaxIter; iter++ {
		copy(muOld, mu)
		// The weighted least-squares step through the normal equations
		// X'WX beta = X'Wz (a p x p Cholesky solve; p is about a dozen).
		ad := ata.RawSymmetric()
		for k := range ad.Data {
			ad.Data[k] = 0
		}
		zd := atz.RawVector().Data
		for k := range zd {
			zd[k] = 0
		}
		for i := 0; i < n; i++ {
			sw[i] = w[i] * mu[i]
			z := eta[i] + (y[i]-mu[i])/mu[i]
			xi := row(i)
			for j := 0; j < p; j++ {
				v := sw[i] * xi[j]
				zd[j] += v * z
				for k := j; k < p; k++ {
					ad.Data[j*ad.Stride+k] += v * xi[k]
				}
			}
		}
		if !chol.Factorize(ata) {
			return nil, fmt.Errorf("%w: design is rank deficient", ErrNoFit)
		}
		if err := chol.SolveVecTo(beta, atz); err != nil {
			return nil, fmt.Errorf("%w: %v", ErrNoFit, err)
		}
		bd := beta.RawVector().Data
		for i := 0; i < n; i++ {
			e := 0.0
			for j, v := range row(i) {
				e += v * bd[j]
			}
			eta[i] = e
			mu[i] = math.Exp(e)
		}
		dev := poissonDeviance(y, mu, w)
		fit.iterations = iter
		if math.IsNaN(dev) || math.IsInf(dev, 0) {
			return nil, fmt.Errorf("%w: deviance is not finite", ErrNoFit)
		}
		if math.Abs(dev-devOld)/(math.Abs(dev)+0.1) < glmEpsilon {
			fit.converged = true
			fit.deviance = dev
			break
		}
		devOld = dev
		fit.deviance = dev
	}
	if !fit.converged {
		return fit, fmt.Errorf("%w: no convergence in %d iterations", ErrNoFit, glmMaxIter)
	}
	// (X'WX)^-1 with the working weights of the last iteration, as R's
	// summary.glm and hatvalues use the final decomposition.
	var inv mat.SymDense
	if err := chol.InverseTo(&inv); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrNoFit, err)
	}
	cov := mat.NewDense(p, p, nil)
	for i := 0; i < p; i++ {
		for j := 0; j < p; j++ {
			cov.Set(i, j, inv.At(i, j))
		}
	}
	if c := chol.Cond(); c > 1e14 {
		return nil, fmt.Errorf("%w: design is rank deficient (condition %.3g)", ErrNoFit, c)
	}
	hat := make([]float64, n)
	cd := cov.RawMatrix()
	for i := 0; i < n; i++ {
		xi := row(i)
		h := 0.0
		for j := 0; j < p; j++ {
			cj := cd.Data[j*cd.Stride : j*cd.Stride+p]
			t := 0.0
			for k, v := range xi {
				t += cj[k] * v
			}
			h += xi[j] * t
		}
		hat[i] = sw[i] * h
	}
	pearson := 0.0
	nOK := 0
	for i := range y {
		if w[i] > 0 {
			r := (y[i] - mu[i]) / mu[i]
			pearson += w[i] * muOld[i] * r * r
			nOK++
		}
	}
	fit.coef = append([]float64(nil), beta.RawVector().Data...)
	fit.mu = mu
	fit.hat = hat
	fit.cov = cov
	fit.dfResidual = nOK - p
	fit.dispersion = pearson / float64(fit.dfResidual)
	return fit, nil
}

// poissonDeviance is 2·sum(w·(y·log(y/mu) - (y - mu))), R's
// poisson()$dev.resids summed.
func poissonDeviance(y, mu, w []float64) float64 {
	d := 0.0
	for i := range y {
		r := mu[i]
		if y[i] > 0 {
			r = y[i]*math.Log(y[i]/mu[i]) - (y[i] - mu[i])
		}
		d += 2 * w[i] * r
	}
	return d
}

// predictLink is x0·beta, the linear predictor at a new design row.
func (f *glmFit) predictLink(x0 []float64) float64 {
	e := 0.0
	for j, v := range x0 {
		e += v * f.coef[j]
	}
	return e
}

// seLink is the standard error of x0·beta, sqrt(dispersion · x0' V x0), as
// predict.glm(se.fit = TRUE) reports it for a quasi family.
func (f *glmFit) seLink(x0 []float64) float64 {
	v := 0.0
	for i := range x0 {
		for j := range x0 {
			v += x0[i] * f.cov.At(i, j) * x0[j]
		}
	}
	return math.Sqrt(f.dispersion * v)
}

// coefPValue is the two-sided t-test p-value of coefficient j, as
// summary.glm reports it for a quasi family (t with the residual df).
func (f *glmFit) coefPValue(j int) float64 {
	se := math.Sqrt(f.dispersion * f.cov.At(j, j))
	t := f.coef[j] / se
	if math.IsNaN(t) {
		return math.NaN()
	}
	st := distuv.StudentsT{Mu: 0, Sigma: 1, Nu: float64(f.dfResidual)}
	return 2 * st.CDF(-math.Abs(t))
}

// anscombeResiduals are the standardised Anscombe residuals of a Poisson
// fit, 3/2·(y^(2/3)·mu^(-1/6) - mu^(1/2)) / sqrt(phi·(1-h)), as
// surveillance's anscombe.residuals computes them.
func (f *glmFit) anscombeResiduals(y []float64, phi float64) []float64 {
	s := make([]float64, len(y))
	for i := range y {
		a := 1.5 * (math.Pow(y[i], 2.0/3)*math.Pow(f.mu[i], -1.0/6) - math.Sqrt(f.mu[i]))
		s[i] = a / math.Sqrt(phi*(1-f.hat[i]))
	}
	return s
}

// outbreakWeights down-weights past outbreaks as
// algo.farrington.assign.weights does: residuals above the threshold get
// weight proportional to s^-2, the others a constant, scaled so that the
// weights sum to the number of observations.
func outbreakWeights(s []float64, threshold float64) []float64 {
	sum := 0.0
	for _, v := range s {
		if v > threshold {
			sum += 1 / (v * v)
		} else {
			sum++
		}
	}
	gamma := float64(len(s)) / sum
	w := make([]float64, len(s))
	for i, v := range s {
		if v > threshold {
			w[i] = gamma / (v * v)
		} else {
			w[i] = gamma
		}
	}
	return w
}
