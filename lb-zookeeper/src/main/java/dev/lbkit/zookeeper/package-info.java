/**
 * Discovery through ZooKeeper: {@link dev.lbkit.zookeeper.ZooKeeperResolver} makes pools follow the instances
 * Curator's ServiceDiscovery registers, {@link dev.lbkit.zookeeper.ZooKeeperRegistration} lets a service
 * announce itself as one.
 */
package dev.lbkit.zookeeper;
