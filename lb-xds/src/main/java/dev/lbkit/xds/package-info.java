/**
 * Discovery through an xDS control plane: {@link dev.lbkit.xds.XdsResolver} makes pools follow a cluster's
 * endpoints (CDS and EDS over ADS), as Envoy and gRPC do.
 */
package dev.lbkit.xds;
