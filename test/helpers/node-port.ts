// Tests that call library functions without a port get Node.js's, as the
// ramstack command does (import this for its effect).

import { setDefaultPort } from "../../src/port/default.js";
import { NodePort } from "../../src/port/node.js";

setDefaultPort(new NodePort());
