package http

// registerProjectionRoutes adds the trend and projection endpoints. It is a
// placeholder until the projections API lands.
func (s *Server) registerProjectionRoutes() {}
