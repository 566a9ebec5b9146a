/**
 * Discovery through etcd v3: {@link dev.lbkit.etcd.EtcdResolver} makes pools follow the upstreams under a
 * prefix, {@link dev.lbkit.etcd.EtcdRegistration} lets a service announce itself there with a lease.
 */
package dev.lbkit.etcd;
