/* q53 traffic-policy ... and q53 policy-record ...: Traffic Flow (Route
 * 53's traffic policies, their versions and traffic policy instances)
 * through the client API's TrafficFlowRequest. Output: Route 53's JSON
 * shapes (TrafficPolicy, TrafficPolicyInstance, ...) in every mode. */
#ifndef Q53_CLUSTER_CLI_CLI_FLOW_H
#define Q53_CLUSTER_CLI_CLI_FLOW_H

#include "cluster/cli/cli.h"

int cli_flow_policy_main(struct cli *cli, int argc, char **argv);
int cli_flow_record_main(struct cli *cli, int argc, char **argv);

#endif
