/**
 * IPv4 values shared by the controller and the agent: {@link io.servicepath.api.net.Ipv4Address}
 * and {@link io.servicepath.api.net.Ipv4Cidr}. Both parse one spelling only (see {@link
 * io.servicepath.api.net.Ipv4Address}), so that an address the controller allocated and an
 * address an agent renders into nft or iptables rules are the same text.
 */
package io.servicepath.api.net;
