// Package detect is the statistical core of plaint's rising-issue alerts.
package detect
