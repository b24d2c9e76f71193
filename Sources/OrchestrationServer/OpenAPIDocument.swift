import Foundation
import Yams

/// The OpenAPI 3.1 document of the API, served at `/api/v1/openapi.json`. Written as YAML here
/// for people; served as JSON. A test runs schemathesis against the live server with it.
enum OpenAPIDocument {
    /// The document as JSON text, built once.
    static let json: String = {
        // The literal below is ours and parses; a failure here is a programming error caught by the tests.
        let object = try! Yams.load(yaml: yaml) as Any
        let data = try! JSONSerialization.data(withJSONObject: object, options: [.sortedKeys])
        return String(decoding: data, as: UTF8.self)
    }()

    static let yaml = #"""
openapi: 3.1.0
info:
  title: NovaCron API
  version: "1"
  description: >-
    Workflows and their executions. Every error is an RFC 9457 problem document
    (application/problem+json). When the server has API tokens, every route but /healthz, /readyz,
    this document and webhooks needs `Authorization: Bearer TOKEN`; each operation's
    `x-novacron-access` names the role it needs (viewer < operator < admin), `open` or `signed`
    (the sender proves the trigger's secret). Requests from browsers must be same-origin and carry
    `X-NovaCron-Request`; bodies must have the documented Content-Type (415 otherwise).
servers:
  - url: /
security:
  - bearer: []
tags:
  - name: workflows
  - name: executions
  - name: server
  - name: triggers
  - name: events
  - name: learning
paths:
  /healthz:
    get:
      tags: [server]
      operationId: health
      x-novacron-access: open
      summary: The process is up.
      security: []
      responses:
        "200": {description: ok, content: {text/plain: {schema: {type: string}}}}
  /readyz:
    get:
      tags: [server]
      operationId: ready
      x-novacron-access: open
      summary: Ready for work; 503 while recovering unfinished executions or draining.
      security: []
      responses:
        "200": {description: ok, content: {text/plain: {schema: {type: string}}}}
        "503": {$ref: "#/components/responses/Problem"}
  /metrics:
    get:
      tags: [server]
      operationId: metrics
      x-novacron-access: viewer
      summary: Prometheus metrics in the text exposition format.
      responses:
        "200": {description: metrics, content: {text/plain: {schema: {type: string}}}}
        "401": {$ref: "#/components/responses/Problem"}
        "403": {$ref: "#/components/responses/Problem"}
  /api/v1/openapi.json:
    get:
      tags: [server]
      operationId: openapi
      x-novacron-access: open
      summary: This document.
      security: []
      responses:
        "200": {description: the OpenAPI document, content: {application/json: {schema: {type: object}}}}
  /api/v1/whoami:
    get:
      tags: [server]
      operationId: whoami
      x-novacron-access: viewer
      summary: The role of the token sent (admin when the server has no tokens).
      responses:
        "200":
          description: the caller's role
          content:
            application/json:
              schema:
                type: object
                required: [role, authenticated]
                properties:
                  role: {$ref: "#/components/schemas/Role"}
                  authenticated: {type: boolean, description: "false when the server runs without tokens"}
                  name: {type: string}
        "401": {$ref: "#/components/responses/Problem"}
  /api/v1/workflows:
    get:
      tags: [workflows]
      operationId: listWorkflows
      x-novacron-access: viewer
      summary: Registered workflows, sorted by id.
      parameters:
        - {$ref: "#/components/parameters/limit"}
        - {$ref: "#/components/parameters/offset"}
      responses:
        "200":
          description: a page of workflows
          content:
            application/json:
              schema:
                allOf:
                  - {$ref: "#/components/schemas/Page"}
                  - type: object
                    required: [total]
                    properties:
                      items: {type: array, items: {$ref: "#/components/schemas/WorkflowSummary"}}
                      total: {type: integer, minimum: 0}
        "400": {$ref: "#/components/responses/Problem"}
        "401": {$ref: "#/components/responses/Problem"}
        "403": {$ref: "#/components/responses/Problem"}
    post:
      tags: [workflows]
      operationId: registerWorkflow
      x-novacron-access: admin
      summary: Registers (or replaces) a workflow from its YAML or JSON definition.
      description: >-
        The body is a workflow file (docs/workflow-files.md), YAML or JSON. A definition can match
        the schema below and still be invalid (a cycle, an unknown dependency): that is 422 with
        every located error.
      requestBody:
        required: true
        content:
          application/yaml:
            schema: {type: string}
            example: "name: hello\nsteps:\n  - id: greet\n    inputs: {command: echo hi}\n"
          application/json:
            schema: {$ref: "#/components/schemas/WorkflowDefinition"}
            example: {name: hello, steps: [{id: greet, inputs: {command: echo hi}}]}
      responses:
        "201":
          description: registered
          content: {application/json: {schema: {$ref: "#/components/schemas/WorkflowSummary"}}}
          links:
            GetWorkflow: {operationId: getWorkflow, parameters: {workflowID: "$response.body#/id"}}
            PlanWorkflow: {operationId: planWorkflow, parameters: {workflowID: "$response.body#/id"}}
            WorkflowVersions: {operationId: workflowVersions, parameters: {workflowID: "$response.body#/id"}}
            StartExecution: {operationId: startExecution, parameters: {workflowID: "$response.body#/id"}}
            DeleteWorkflow: {operationId: deleteWorkflow, parameters: {workflowID: "$response.body#/id"}}
        "400": {$ref: "#/components/responses/Problem"}
        "401": {$ref: "#/components/responses/Problem"}
        "403": {$ref: "#/components/responses/Problem"}
        "413": {$ref: "#/components/responses/Problem"}
        "422": {$ref: "#/components/responses/DefinitionProblem"}
  /api/v1/workflows/{workflowID}:
    parameters: [{$ref: "#/components/parameters/workflowID"}]
    get:
      tags: [workflows]
      operationId: getWorkflow
      x-novacron-access: viewer
      responses:
        "200": {description: the workflow, content: {application/json: {schema: {$ref: "#/components/schemas/WorkflowDetail"}}}}
        "401": {$ref: "#/components/responses/Problem"}
        "403": {$ref: "#/components/responses/Problem"}
        "404": {$ref: "#/components/responses/Problem"}
    delete:
      tags: [workflows]
      operationId: deleteWorkflow
      x-novacron-access: admin
      summary: Unregisters a workflow; its executions are kept.
      responses:
        "204": {description: unregistered}
        "401": {$ref: "#/components/responses/Problem"}
        "403": {$ref: "#/components/responses/Problem"}
        "404": {$ref: "#/components/responses/Problem"}
  /api/v1/workflows/{workflowID}/versions:
    parameters: [{$ref: "#/components/parameters/workflowID"}]
    get:
      tags: [workflows]
      operationId: workflowVersions
      x-novacron-access: viewer
      summary: Every saved version of the definition, oldest first.
      responses:
        "200":
          description: versions
          content:
            application/json:
              schema:
                type: array
                items:
                  type: object
                  required: [version, savedAt]
                  properties:
                    version: {type: string}
                    savedAt: {type: string, format: date-time}
        "401": {$ref: "#/components/responses/Problem"}
        "403": {$ref: "#/components/responses/Problem"}
        "404": {$ref: "#/components/responses/Problem"}
        "501": {$ref: "#/components/responses/Problem"}
  /api/v1/workflows/{workflowID}/plan:
    parameters: [{$ref: "#/components/parameters/workflowID"}]
    get:
      tags: [workflows]
      operationId: planWorkflow
      x-novacron-access: viewer
      summary: Stages, critical path, priorities and the estimated duration.
      responses:
        "200": {description: the plan, content: {application/json: {schema: {$ref: "#/components/schemas/Plan"}}}}
        "401": {$ref: "#/components/responses/Problem"}
        "403": {$ref: "#/components/responses/Problem"}
        "404": {$ref: "#/components/responses/Problem"}
        "409": {$ref: "#/components/responses/Problem"}
  /api/v1/workflows/{workflowID}/executions:
    parameters: [{$ref: "#/components/parameters/workflowID"}]
    get:
      tags: [executions]
      operationId: listWorkflowExecutions
      x-novacron-access: viewer
      summary: This workflow's executions, newest first (the same as /api/v1/executions?workflow=ID, but 404 for a workflow nobody knows).
      parameters:
        - {name: status, in: query, schema: {$ref: "#/components/schemas/ExecutionStatus"}}
        - {$ref: "#/components/parameters/limit"}
        - {$ref: "#/components/parameters/offset"}
      responses:
        "200":
          description: a page of executions
          content:
            application/json:
              schema:
                allOf:
                  - {$ref: "#/components/schemas/Page"}
                  - type: object
                    properties:
                      items: {type: array, items: {$ref: "#/components/schemas/Execution"}}
        "400": {$ref: "#/components/responses/Problem"}
        "401": {$ref: "#/components/responses/Problem"}
        "403": {$ref: "#/components/responses/Problem"}
        "404": {$ref: "#/components/responses/Problem"}
    post:
      tags: [executions]
      operationId: startExecution
      x-novacron-access: operator
      summary: Starts an execution with inputs.
      requestBody:
        required: false
        content:
          application/json:
            schema:
              type: object
              additionalProperties: false
              properties:
                inputs: {type: object, additionalProperties: true}
                debug:
                  type: boolean
                  description: The guide's debug mode. The execution pauses before each step; POST …/resume runs exactly the next one, then it pauses again.
            example: {inputs: {}, debug: false}
      responses:
        "201":
          description: started
          content: {application/json: {schema: {$ref: "#/components/schemas/Execution"}}}
          links:
            GetExecution: {operationId: getExecution, parameters: {executionID: "$response.body#/id"}}
            GetExecutionGuidePath: {operationId: getExecutionGuidePath, parameters: {executionID: "$response.body#/id"}}
            ExecutionEvents: {operationId: executionEvents, parameters: {executionID: "$response.body#/id"}}
            ExecutionLogs: {operationId: executionLogs, parameters: {executionID: "$response.body#/id"}}
            ExecutionAttempts: {operationId: executionAttempts, parameters: {executionID: "$response.body#/id"}}
            CancelExecution: {operationId: cancelExecution, parameters: {executionID: "$response.body#/id"}}
            PauseExecution: {operationId: pauseExecution, parameters: {executionID: "$response.body#/id"}}
            ResumeExecution: {operationId: resumeExecution, parameters: {executionID: "$response.body#/id"}}
            RetryExecution: {operationId: retryExecution, parameters: {executionID: "$response.body#/id"}}
        "400": {$ref: "#/components/responses/Problem"}
        "401": {$ref: "#/components/responses/Problem"}
        "403": {$ref: "#/components/responses/Problem"}
        "404": {$ref: "#/components/responses/Problem"}
        "413": {$ref: "#/components/responses/Problem"}
        "503": {$ref: "#/components/responses/Problem"}
  /api/v1/executions:
    get:
      tags: [executions]
      operationId: listExecutions
      x-novacron-access: viewer
      summary: Executions, newest first.
      parameters:
        - {name: workflow, in: query, schema: {type: string}, description: only this workflow's}
        - {name: status, in: query, schema: {$ref: "#/components/schemas/ExecutionStatus"}}
        - {$ref: "#/components/parameters/limit"}
        - {$ref: "#/components/parameters/offset"}
      responses:
        "200":
          description: a page of executions
          content:
            application/json:
              schema:
                allOf:
                  - {$ref: "#/components/schemas/Page"}
                  - type: object
                    properties:
                      items: {type: array, items: {$ref: "#/components/schemas/Execution"}}
        "400": {$ref: "#/components/responses/Problem"}
        "401": {$ref: "#/components/responses/Problem"}
        "403": {$ref: "#/components/responses/Problem"}
  /api/v1/executions/{executionID}:
    parameters: [{$ref: "#/components/parameters/executionID"}]
    get:
      tags: [executions]
      operationId: getExecution
      x-novacron-access: viewer
      responses:
        "200": {description: the execution, content: {application/json: {schema: {$ref: "#/components/schemas/Execution"}}}}
        "401": {$ref: "#/components/responses/Problem"}
        "403": {$ref: "#/components/responses/Problem"}
        "404": {$ref: "#/components/responses/Problem"}
  /api/v1/workflows/executions:
    get:
      tags: [workflows]
      operationId: getLegacyExecutionsWorkflow
      x-novacron-access: viewer
      summary: The workflow saved as 'executions' before that id was reserved (it collides with /api/v1/workflows/executions/{executionID}).
      responses:
        "200": {description: the workflow, content: {application/json: {schema: {$ref: "#/components/schemas/WorkflowDetail"}}}}
        "401": {$ref: "#/components/responses/Problem"}
        "403": {$ref: "#/components/responses/Problem"}
        "404": {$ref: "#/components/responses/Problem"}
    delete:
      tags: [workflows]
      operationId: deleteLegacyExecutionsWorkflow
      x-novacron-access: admin
      summary: Unregisters the workflow saved as 'executions'.
      responses:
        "204": {description: unregistered}
        "401": {$ref: "#/components/responses/Problem"}
        "403": {$ref: "#/components/responses/Problem"}
        "404": {$ref: "#/components/responses/Problem"}
  /api/v1/workflows/executions/{executionID}:
    parameters: [{$ref: "#/components/parameters/executionID"}]
    get:
      tags: [executions]
      operationId: getExecutionGuidePath
      x-novacron-access: viewer
      summary: The same as /api/v1/executions/{executionID}, at the guide's path.
      responses:
        "200": {description: the execution, content: {application/json: {schema: {$ref: "#/components/schemas/Execution"}}}}
        "401": {$ref: "#/components/responses/Problem"}
        "403": {$ref: "#/components/responses/Problem"}
        "404": {$ref: "#/components/responses/Problem"}
  /api/v1/executions/{executionID}/events:
    parameters: [{$ref: "#/components/parameters/executionID"}]
    get:
      tags: [executions]
      operationId: executionEvents
      x-novacron-access: viewer
      summary: >-
        Server-Sent Events: `execution` (the state now), then each lifecycle event
        (executionStarted, stepScheduled, stepStarted, stepRetrying, stepFinished, executionPaused,
        executionResumed, executionFinished) as it happens; the stream ends after executionFinished.
      responses:
        "200":
          description: the event stream
          content:
            text/event-stream:
              schema:
                description: One event; `data` is a JSON object.
                type: object
                required: [event, data]
                properties:
                  event: {type: string, enum: [execution, executionStarted, stepScheduled, stepStarted, stepRetrying, stepFinished, executionPaused, executionResumed, executionFinished]}
                  data:
                    type: string
                    contentMediaType: application/json
                    contentSchema: {type: object}
        "401": {$ref: "#/components/responses/Problem"}
        "403": {$ref: "#/components/responses/Problem"}
        "404": {$ref: "#/components/responses/Problem"}
  /api/v1/executions/{executionID}/logs:
    parameters: [{$ref: "#/components/parameters/executionID"}]
    get:
      tags: [executions]
      operationId: executionLogs
      x-novacron-access: viewer
      summary: The kept log tail of each step (secrets redacted).
      parameters:
        - {name: step, in: query, schema: {type: string}, description: only this step's}
      responses:
        "200":
          description: logs
          content:
            application/json:
              schema:
                type: object
                required: [steps]
                properties:
                  steps:
                    type: array
                    items:
                      type: object
                      required: [id, status, log]
                      properties:
                        id: {type: string}
                        status: {$ref: "#/components/schemas/StepStatus"}
                        log: {type: string}
        "401": {$ref: "#/components/responses/Problem"}
        "403": {$ref: "#/components/responses/Problem"}
        "404": {$ref: "#/components/responses/Problem"}
  /api/v1/executions/{executionID}/attempts:
    parameters: [{$ref: "#/components/parameters/executionID"}]
    get:
      tags: [executions]
      operationId: executionAttempts
      x-novacron-access: viewer
      summary: Every attempt of every step, in start order (the Gantt timeline).
      responses:
        "200":
          description: attempts
          content:
            application/json:
              schema:
                type: object
                required: [attempts]
                properties:
                  attempts: {type: array, items: {$ref: "#/components/schemas/Attempt"}}
        "401": {$ref: "#/components/responses/Problem"}
        "403": {$ref: "#/components/responses/Problem"}
        "404": {$ref: "#/components/responses/Problem"}
  /api/v1/executions/{executionID}/cancel:
    parameters: [{$ref: "#/components/parameters/executionID"}]
    post:
      tags: [executions]
      operationId: cancelExecution
      x-novacron-access: operator
      summary: Cancels a running or paused execution; its rollback runs.
      responses:
        "200": {description: the execution now, content: {application/json: {schema: {$ref: "#/components/schemas/Execution"}}}}
        "401": {$ref: "#/components/responses/Problem"}
        "403": {$ref: "#/components/responses/Problem"}
        "404": {$ref: "#/components/responses/Problem"}
        "409": {$ref: "#/components/responses/Problem"}
  /api/v1/executions/{executionID}/pause:
    parameters: [{$ref: "#/components/parameters/executionID"}]
    post:
      tags: [executions]
      operationId: pauseExecution
      x-novacron-access: operator
      summary: Starts nothing new until resumed; running steps finish.
      responses:
        "200": {description: the execution now, content: {application/json: {schema: {$ref: "#/components/schemas/Execution"}}}}
        "401": {$ref: "#/components/responses/Problem"}
        "403": {$ref: "#/components/responses/Problem"}
        "404": {$ref: "#/components/responses/Problem"}
        "409": {$ref: "#/components/responses/Problem"}
  /api/v1/executions/{executionID}/resume:
    parameters: [{$ref: "#/components/parameters/executionID"}]
    post:
      tags: [executions]
      operationId: resumeExecution
      x-novacron-access: operator
      responses:
        "200": {description: the execution now, content: {application/json: {schema: {$ref: "#/components/schemas/Execution"}}}}
        "401": {$ref: "#/components/responses/Problem"}
        "403": {$ref: "#/components/responses/Problem"}
        "404": {$ref: "#/components/responses/Problem"}
        "409": {$ref: "#/components/responses/Problem"}
  /api/v1/executions/{executionID}/retry:
    parameters: [{$ref: "#/components/parameters/executionID"}]
    post:
      tags: [executions]
      operationId: retryExecution
      x-novacron-access: operator
      summary: A new execution of a failed or cancelled one, reusing what succeeded.
      responses:
        "201": {description: the new execution, content: {application/json: {schema: {$ref: "#/components/schemas/Execution"}}}}
        "401": {$ref: "#/components/responses/Problem"}
        "403": {$ref: "#/components/responses/Problem"}
        "404": {$ref: "#/components/responses/Problem"}
        "409": {$ref: "#/components/responses/Problem"}
        "503": {$ref: "#/components/responses/Problem"}
  /api/v1/triggers:
    get:
      tags: [triggers]
      operationId: listTriggers
      x-novacron-access: viewer
      summary: Every trigger of the registered workflows with its state (last fired, next fire, last error).
      parameters:
        - {name: workflow, in: query, schema: {type: string}, description: only this workflow's}
      responses:
        "200": {$ref: "#/components/responses/Triggers"}
        "401": {$ref: "#/components/responses/Problem"}
        "403": {$ref: "#/components/responses/Problem"}
  /api/v1/workflows/{workflowID}/triggers:
    parameters: [{$ref: "#/components/parameters/workflowID"}]
    get:
      tags: [triggers]
      operationId: workflowTriggers
      x-novacron-access: viewer
      responses:
        "200": {$ref: "#/components/responses/Triggers"}
        "401": {$ref: "#/components/responses/Problem"}
        "403": {$ref: "#/components/responses/Problem"}
        "404": {$ref: "#/components/responses/Problem"}
  /api/v1/workflows/{workflowID}/triggers/{triggerID}/enable:
    parameters: [{$ref: "#/components/parameters/workflowID"}, {$ref: "#/components/parameters/triggerID"}]
    post:
      tags: [triggers]
      operationId: enableTrigger
      x-novacron-access: operator
      summary: Switches the trigger on (kept across restarts); a schedule counts from now.
      responses:
        "200": {description: the trigger now, content: {application/json: {schema: {$ref: "#/components/schemas/Trigger"}}}}
        "401": {$ref: "#/components/responses/Problem"}
        "403": {$ref: "#/components/responses/Problem"}
        "404": {$ref: "#/components/responses/Problem"}
  /api/v1/workflows/{workflowID}/triggers/{triggerID}/disable:
    parameters: [{$ref: "#/components/parameters/workflowID"}, {$ref: "#/components/parameters/triggerID"}]
    post:
      tags: [triggers]
      operationId: disableTrigger
      x-novacron-access: operator
      summary: Switches the trigger off without editing the workflow (kept across restarts).
      responses:
        "200": {description: the trigger now, content: {application/json: {schema: {$ref: "#/components/schemas/Trigger"}}}}
        "401": {$ref: "#/components/responses/Problem"}
        "403": {$ref: "#/components/responses/Problem"}
        "404": {$ref: "#/components/responses/Problem"}
  /api/v1/webhooks/{source}:
    parameters:
      - {name: source, in: path, required: true, schema: {type: string}, example: github, description: "github, gitlab, generic (webhook triggers), pagerduty or alertmanager (incident triggers)"}
    post:
      tags: [triggers]
      operationId: receiveWebhook
      x-novacron-access: signed
      summary: A webhook or incident delivery; starts every matching trigger of that source.
      description: >-
        Senders authenticate with the trigger's secret instead of a token: GitHub with
        X-Hub-Signature-256, GitLab with X-Gitlab-Token, others with X-Signature-256
        (sha256=HMAC-SHA256 of the body), PagerDuty with X-PagerDuty-Signature (v1=HMAC-SHA256
        of the body), Alertmanager with Authorization Bearer. A delivery id seen before
        (X-GitHub-Delivery, X-Gitlab-Event-UUID, X-Delivery-ID, the PagerDuty event id, an
        Alertmanager alert's fingerprint, start and status) starts nothing and answers 200.
      security: []
      requestBody:
        required: false
        content:
          application/json: {schema: {type: object}}
      responses:
        "202": {description: received, content: {application/json: {schema: {$ref: "#/components/schemas/WebhookResult"}}}}
        "200": {description: a redelivery; nothing started, content: {application/json: {schema: {$ref: "#/components/schemas/WebhookResult"}}}}
        "400": {$ref: "#/components/responses/Problem"}
        "401": {$ref: "#/components/responses/Problem"}
        "404": {$ref: "#/components/responses/Problem"}
        "413": {$ref: "#/components/responses/Problem"}
  /api/v1/events:
    post:
      tags: [events]
      operationId: publishEvent
      x-novacron-access: operator
      summary: Publishes an event on the bus; event triggers whose pattern matches start their workflows.
      requestBody:
        required: true
        content:
          application/json:
            schema:
              type: object
              required: [type]
              properties:
                type: {type: string, pattern: "^[A-Za-z0-9_-]+(\\.[A-Za-z0-9_-]+)*$", maxLength: 200}
                data: {type: object}
                source: {type: string, minLength: 1, maxLength: 100, not: {const: engine}}
            example: {type: deployment.finished, data: {service: api, environment: production}}
      responses:
        "201": {description: saved, content: {application/json: {schema: {$ref: "#/components/schemas/Event"}}}}
        "400": {$ref: "#/components/responses/Problem"}
        "401": {$ref: "#/components/responses/Problem"}
        "403": {$ref: "#/components/responses/Problem"}
        "413": {$ref: "#/components/responses/Problem"}
    get:
      tags: [events]
      operationId: listEvents
      x-novacron-access: viewer
      summary: Replay, oldest first, from a sequence number.
      parameters:
        - {$ref: "#/components/parameters/after"}
        - {$ref: "#/components/parameters/eventType"}
        - {$ref: "#/components/parameters/limit"}
      responses:
        "200":
          description: events
          content:
            application/json:
              schema:
                type: object
                required: [events, lastSeq]
                properties:
                  events: {type: array, items: {$ref: "#/components/schemas/Event"}}
                  lastSeq: {type: integer, minimum: 0}
        "400": {$ref: "#/components/responses/Problem"}
        "401": {$ref: "#/components/responses/Problem"}
        "403": {$ref: "#/components/responses/Problem"}
  /api/v1/events/stream:
    get:
      tags: [events]
      operationId: streamEvents
      x-novacron-access: viewer
      summary: >-
        Server-Sent Events from a sequence number (or Last-Event-ID): the saved events, then new
        ones as they are saved; `id:` is the sequence number, `event:` the type. Runs until the
        client closes it.
      parameters:
        - {$ref: "#/components/parameters/after"}
        - {$ref: "#/components/parameters/eventType"}
      responses:
        "200":
          description: the stream
          content:
            text/event-stream:
              schema:
                type: object
                required: [event, data, id]
                properties:
                  id: {type: string}
                  event: {type: string}
                  data: {type: string, contentMediaType: application/json, contentSchema: {$ref: "#/components/schemas/Event"}}
        "400": {$ref: "#/components/responses/Problem"}
        "401": {$ref: "#/components/responses/Problem"}
        "403": {$ref: "#/components/responses/Problem"}
  /api/v1/subscriptions:
    post:
      tags: [events]
      operationId: createSubscription
      x-novacron-access: admin
      summary: An outbound webhook for events matching a pattern (admin).
      requestBody:
        required: true
        content:
          application/json:
            schema:
              type: object
              required: [url]
              properties:
                url: {type: string, format: uri}
                events: {type: string, minLength: 1, maxLength: 200}
                secret: {type: string}
                maxAttempts: {type: integer, minimum: 1, maximum: 20}
            example: {url: "http://127.0.0.1:9/hook", events: "deployment.*"}
      responses:
        "201": {description: created, content: {application/json: {schema: {$ref: "#/components/schemas/Subscription"}}}}
        "400": {$ref: "#/components/responses/Problem"}
        "401": {$ref: "#/components/responses/Problem"}
        "403": {$ref: "#/components/responses/Problem"}
        "413": {$ref: "#/components/responses/Problem"}
    get:
      tags: [events]
      operationId: listSubscriptions
      x-novacron-access: viewer
      responses:
        "200":
          description: subscriptions (secrets are never shown)
          content:
            application/json:
              schema:
                type: object
                required: [subscriptions]
                properties:
                  subscriptions: {type: array, items: {$ref: "#/components/schemas/Subscription"}}
        "401": {$ref: "#/components/responses/Problem"}
        "403": {$ref: "#/components/responses/Problem"}
  /api/v1/subscriptions/{subscriptionID}:
    parameters: [{$ref: "#/components/parameters/subscriptionID"}]
    get:
      tags: [events]
      operationId: getSubscription
      x-novacron-access: viewer
      responses:
        "200": {description: the subscription, content: {application/json: {schema: {$ref: "#/components/schemas/Subscription"}}}}
        "401": {$ref: "#/components/responses/Problem"}
        "403": {$ref: "#/components/responses/Problem"}
        "404": {$ref: "#/components/responses/Problem"}
    delete:
      tags: [events]
      operationId: deleteSubscription
      x-novacron-access: admin
      responses:
        "204": {description: deleted}
        "401": {$ref: "#/components/responses/Problem"}
        "403": {$ref: "#/components/responses/Problem"}
        "404": {$ref: "#/components/responses/Problem"}
  /api/v1/subscriptions/{subscriptionID}/dead-letters:
    parameters: [{$ref: "#/components/parameters/subscriptionID"}]
    get:
      tags: [events]
      operationId: deadLetters
      x-novacron-access: viewer
      summary: Events the subscription gave up on, newest first.
      responses:
        "200":
          description: dead letters
          content:
            application/json:
              schema:
                type: object
                required: [deadLetters]
                properties:
                  deadLetters:
                    type: array
                    items:
                      type: object
                      required: [seq, type, attempts, error, at]
                      properties:
                        seq: {type: integer}
                        type: {type: string}
                        attempts: {type: integer}
                        error: {type: string}
                        at: {type: string, format: date-time}
        "401": {$ref: "#/components/responses/Problem"}
        "403": {$ref: "#/components/responses/Problem"}
        "404": {$ref: "#/components/responses/Problem"}
  /api/v1/learning/patterns/{workflowID}:
    parameters: [{$ref: "#/components/parameters/workflowID"}]
    get:
      tags: [learning]
      operationId: learningPatterns
      x-novacron-access: viewer
      summary: What the learning engine learned about a workflow.
      description: >-
        Success rate, durations (mean, p50, p95, p99, EWMA), and per step the first-attempt
        failure rate, how often retries recover, the timeout rate, cache hits, queue waits,
        the most common failures and duration regressions. Before minimumExecutions executions
        only executions and executionsNeeded are given.
      responses:
        "200":
          description: the pattern
          content: {application/json: {schema: {$ref: "#/components/schemas/Pattern"}}}
        "401": {$ref: "#/components/responses/Problem"}
        "403": {$ref: "#/components/responses/Problem"}
        "404": {$ref: "#/components/responses/Problem"}
        "501": {$ref: "#/components/responses/Problem"}
  /api/v1/learning/suggestions/{workflowID}:
    parameters: [{$ref: "#/components/parameters/workflowID"}]
    get:
      tags: [learning]
      operationId: learningSuggestions
      x-novacron-access: viewer
      summary: The learning engine's suggestions, each with its confidence, evidence and JSON Patch.
      responses:
        "200":
          description: the suggestions, most important first
          content:
            application/json:
              schema:
                type: object
                required: [workflowID, executions, executionsNeeded, suggestions]
                properties:
                  workflowID: {type: string}
                  executions: {type: integer}
                  executionsNeeded: {type: integer}
                  minConfidence: {type: number}
                  suggestions: {type: array, items: {$ref: "#/components/schemas/Suggestion"}}
        "401": {$ref: "#/components/responses/Problem"}
        "403": {$ref: "#/components/responses/Problem"}
        "404": {$ref: "#/components/responses/Problem"}
        "501": {$ref: "#/components/responses/Problem"}
  /api/v1/learning/suggestions/{workflowID}/apply:
    parameters: [{$ref: "#/components/parameters/workflowID"}]
    post:
      tags: [learning]
      operationId: applySuggestion
      x-novacron-access: admin
      summary: Applies a current suggestion as a new workflow version (admin), recorded in the audit trail.
      requestBody:
        required: true
        content:
          application/json:
            schema:
              type: object
              required: [id]
              properties: {id: {type: string, example: "add-retries/tests"}}
      responses:
        "201":
          description: applied; the audit record
          content: {application/json: {schema: {$ref: "#/components/schemas/OptimizationRecord"}}}
        "400": {$ref: "#/components/responses/Problem"}
        "401": {$ref: "#/components/responses/Problem"}
        "403": {$ref: "#/components/responses/Problem"}
        "404": {$ref: "#/components/responses/Problem"}
        "409": {$ref: "#/components/responses/Problem"}
        "501": {$ref: "#/components/responses/Problem"}
  /api/v1/learning/audit/{workflowID}:
    parameters: [{$ref: "#/components/parameters/workflowID"}]
    get:
      tags: [learning]
      operationId: learningAudit
      x-novacron-access: viewer
      summary: Optimizations applied to and reverted from a workflow, oldest first.
      responses:
        "200":
          description: the audit trail
          content:
            application/json:
              schema:
                type: object
                required: [workflowID, records]
                properties:
                  workflowID: {type: string}
                  records: {type: array, items: {$ref: "#/components/schemas/OptimizationRecord"}}
        "401": {$ref: "#/components/responses/Problem"}
        "403": {$ref: "#/components/responses/Problem"}
        "501": {$ref: "#/components/responses/Problem"}
components:
  securitySchemes:
    bearer: {type: http, scheme: bearer}
  parameters:
    workflowID: {name: workflowID, in: path, required: true, schema: {type: string}, example: hello}
    executionID: {name: executionID, in: path, required: true, schema: {type: string}}
    triggerID: {name: triggerID, in: path, required: true, schema: {type: string}}
    subscriptionID: {name: subscriptionID, in: path, required: true, schema: {type: string}}
    after: {name: after, in: query, schema: {type: integer, minimum: 0, maximum: 9223372036854775807, default: 0}, description: "events after this sequence number (or the Last-Event-ID header)"}
    eventType: {name: type, in: query, schema: {type: string}, description: "a type pattern: deployment.*, *.failed"}
    limit: {name: limit, in: query, schema: {type: integer, minimum: 1, maximum: 1000, default: 50}}
    offset: {name: offset, in: query, schema: {type: integer, minimum: 0, maximum: 1000000000, default: 0}}
  responses:
    Triggers:
      description: triggers with their state
      content:
        application/json:
          schema:
            type: object
            required: [triggers]
            properties:
              triggers: {type: array, items: {$ref: "#/components/schemas/Trigger"}}
    Problem:
      description: a problem document
      content: {application/problem+json: {schema: {$ref: "#/components/schemas/Problem"}}}
    DefinitionProblem:
      description: the definition is invalid; every located error
      content: {application/problem+json: {schema: {$ref: "#/components/schemas/DefinitionProblem"}}}
  schemas:
    Durations:
      type: object
      required: [samples, mean, p50, p95, p99, ewma]
      description: seconds
      properties:
        samples: {type: integer}
        mean: {type: number}
        p50: {type: number}
        p95: {type: number}
        p99: {type: number}
        ewma: {type: number}
    FailureCluster:
      type: object
      required: [signature, count]
      properties:
        signature: {type: string, description: "the message with numbers, ids, paths and times replaced by <n>, <hex>, <path>, <time>"}
        count: {type: integer}
        example: {type: string}
        steps: {type: array, items: {type: string}}
    Pattern:
      type: object
      required: [workflowID, executions, minimumExecutions, executionsNeeded, commonFailures, steps]
      properties:
        workflowID: {type: string}
        executions: {type: integer}
        minimumExecutions: {type: integer}
        executionsNeeded: {type: integer}
        successRate: {type: number}
        duration: {$ref: "#/components/schemas/Durations"}
        commonFailures: {type: array, items: {$ref: "#/components/schemas/FailureCluster"}}
        steps:
          type: array
          items:
            type: object
            required: [stepID, runs, skipped, commonFailures]
            properties:
              stepID: {type: string}
              runs: {type: integer}
              skipped: {type: integer}
              successRate: {type: number}
              firstAttemptFailureRate: {type: number}
              retryRecoveryRate: {type: number}
              timeoutRate: {type: number}
              cacheHitRate: {type: number}
              duration: {$ref: "#/components/schemas/Durations"}
              queueWait: {$ref: "#/components/schemas/Durations"}
              commonFailures: {type: array, items: {$ref: "#/components/schemas/FailureCluster"}}
              regression:
                type: object
                required: [recentRuns, baselineMedian, recentMedian, ratio, pValue]
                properties:
                  recentRuns: {type: integer}
                  baselineMedian: {type: number}
                  recentMedian: {type: number}
                  ratio: {type: number}
                  pValue: {type: number}
    PatchOperation:
      type: object
      required: [op, path]
      properties:
        op: {type: string, enum: [add, remove, replace, test]}
        path: {type: string}
        value: {}
    Suggestion:
      type: object
      required: [id, kind, description, expectedImpact, priority, confidence, safe, semanticChange, evidence, patch]
      properties:
        id: {type: string}
        kind: {type: string, enum: [raise-timeout, add-retries, remove-retries, enable-cache, remove-dependency, parallelize, set-estimate, duration-regression]}
        step: {type: string}
        description: {type: string}
        expectedImpact: {type: number, description: percent}
        priority: {type: string, enum: [low, medium, high]}
        confidence: {type: number, minimum: 0, maximum: 1}
        safe: {type: boolean}
        semanticChange: {type: boolean}
        evidence: {type: object}
        patch: {type: array, items: {$ref: "#/components/schemas/PatchOperation"}}
    OptimizationRecord:
      type: object
      required: [workflowID, action, suggestionID, kind, by, reason, confidence, beforeVersion, afterVersion, patch, evidence, at]
      properties:
        workflowID: {type: string}
        action: {type: string, enum: [applied, reverted]}
        suggestionID: {type: string}
        kind: {type: string}
        by: {type: string}
        reason: {type: string}
        confidence: {type: number}
        beforeVersion: {type: string}
        afterVersion: {type: string}
        patch: {type: array, items: {$ref: "#/components/schemas/PatchOperation"}}
        evidence: {type: object}
        at: {type: string, format: date-time}
    WorkflowDefinition:
      description: The outline of a workflow file; docs/workflow.schema.json has every field.
      type: object
      required: [name, steps]
      properties:
        id: {type: string}
        name: {type: string, minLength: 1}
        description: {type: string}
        version: {type: [string, number]}
        inputs: {type: object}
        steps:
          type: array
          minItems: 1
          items:
            type: object
            required: [id]
            properties:
              id: {type: string, pattern: "^[A-Za-z][A-Za-z0-9_-]*$"}
              type: {type: string}
              action: {type: string}
              dependencies: {type: array, items: {type: string}}
              inputs: {type: object}
    Role: {type: string, enum: [viewer, operator, admin]}
    Event:
      type: object
      required: [seq, type, data, source, time]
      properties:
        seq: {type: integer, minimum: 1}
        type: {type: string}
        data: {}
        source: {type: string}
        time: {type: string, format: date-time}
    Subscription:
      type: object
      required: [id, url, events, signed, maxAttempts, createdAt, delivered, deadLettered]
      properties:
        id: {type: string}
        url: {type: string}
        events: {type: string}
        signed: {type: boolean}
        maxAttempts: {type: integer}
        createdAt: {type: string, format: date-time}
        delivered: {type: integer}
        deadLettered: {type: integer}
        lastError: {type: string}
        lastDeliveredSeq: {type: integer}
    WebhookResult:
      type: object
      required: [duplicate, executions]
      properties:
        delivery: {type: string}
        duplicate: {type: boolean}
        executions:
          type: array
          items:
            type: object
            required: [workflow, trigger, execution]
            properties: {workflow: {type: string}, trigger: {type: string}, execution: {type: string}, incident: {type: string, description: the incident occurrence (PagerDuty and Alertmanager)}}
        skipped:
          type: array
          items:
            type: object
            required: [workflow, trigger, reason]
            properties: {workflow: {type: string}, trigger: {type: string}, reason: {type: string}, incident: {type: string}}
        duplicates:
          type: array
          description: incident occurrences seen before (PagerDuty event ids, Alertmanager alert occurrences)
          items: {type: string}
    Trigger:
      type: object
      required: [workflowID, id, type, enabled, fireCount]
      properties:
        workflowID: {type: string}
        id: {type: string}
        type: {type: string, enum: [manual, schedule, webhook, metric, incident, event]}
        source: {type: string}
        schedule: {type: string}
        timezone: {type: string}
        event: {type: string}
        enabled: {type: boolean}
        fireCount: {type: integer, minimum: 0}
        lastFiredAt: {type: string, format: date-time}
        nextFireAt: {type: string, format: date-time}
        lastError: {type: string}
        lastErrorAt: {type: string, format: date-time}
    ExecutionStatus: {type: string, enum: [pending, running, paused, completed, failed, cancelled]}
    StepStatus: {type: string, enum: [pending, running, success, failed, skipped, cancelled]}
    Problem:
      type: object
      required: [type, title, status, detail]
      properties:
        type: {type: string}
        title: {type: string}
        status: {type: integer, minimum: 400, maximum: 599}
        detail: {type: string}
    DefinitionProblem:
      allOf:
        - {$ref: "#/components/schemas/Problem"}
        - type: object
          required: [errors]
          properties:
            errors:
              type: array
              items:
                type: object
                required: [message, path]
                properties:
                  message: {type: string}
                  path: {type: string}
                  line: {type: integer, minimum: 1}
                  column: {type: integer, minimum: 1}
    Page:
      type: object
      required: [items, offset, limit]
      properties:
        items: {type: array}
        offset: {type: integer, minimum: 0}
        limit: {type: integer, minimum: 1}
        nextOffset: {type: [integer, "null"], description: "the offset of the next page; null on the last"}
    WorkflowSummary:
      type: object
      required: [id, name, stepCount, optimizationScore]
      properties:
        id: {type: string}
        name: {type: string}
        description: {type: string}
        version: {type: string}
        stepCount: {type: integer, minimum: 0}
        optimizationScore:
          description: Serial duration ÷ planned duration from the steps' estimates (the guide's OptimizationScore), set at registration.
          type: number
          minimum: 0
    WorkflowDetail:
      allOf:
        - {$ref: "#/components/schemas/WorkflowSummary"}
        - type: object
          required: [steps]
          properties:
            steps:
              type: array
              items:
                type: object
                required: [id, type, dependencies, parallel]
                properties:
                  id: {type: string}
                  type: {type: string}
                  action: {type: string}
                  condition: {type: string}
                  timeout: {type: string}
                  dependencies: {type: array, items: {type: string}}
                  parallel: {type: boolean}
    Plan:
      type: object
      required: [workflow, stages, criticalPath, estimatedSeconds, serialSeconds, optimizationScore, steps]
      properties:
        workflow: {type: string}
        name: {type: string}
        stages:
          type: array
          items:
            type: object
            required: [steps, parallel]
            properties:
              steps: {type: array, items: {type: string}}
              parallel: {type: boolean}
        criticalPath: {type: array, items: {type: string}}
        criticalPathSeconds: {type: number}
        estimatedSeconds: {type: number}
        serialSeconds: {type: number}
        optimizationScore: {type: number}
        redundantDependencies: {type: array, items: {type: object}}
        implicitDependencies: {type: array, items: {type: object}}
        cacheHints: {type: array, items: {type: string}}
        steps:
          type: array
          items:
            type: object
            required: [id, stage, dependencies]
            properties:
              id: {type: string}
              stage: {type: integer}
              estimateSeconds: {type: number}
              prioritySeconds: {type: number}
              dependencies: {type: array, items: {type: string}}
              exclusive: {type: boolean}
    Execution:
      type: object
      required: [id, workflowID, status, inputs, metrics, steps]
      properties:
        id: {type: string}
        workflowID: {type: string}
        workflowVersion: {type: string}
        status: {$ref: "#/components/schemas/ExecutionStatus"}
        inputs: {type: object}
        error: {type: string}
        startedAt: {type: string, format: date-time}
        finishedAt: {type: string, format: date-time}
        estimatedCompletion: {type: string, format: date-time, description: "when a running execution is expected to end, from learned step durations (docs/learning.md)"}
        debug: {type: boolean, description: "present (true) while the execution runs in debug mode: paused before each step"}
        pausedBefore: {type: string, description: "in debug mode, the step the execution is paused before; POST …/resume runs it"}
        metrics:
          type: object
          required: [stepCount, successfulSteps, failedSteps, skippedSteps, retryCount, cacheHits, totalDurationMs, criticalPathDurationMs, optimizationGains]
          properties:
            stepCount: {type: integer}
            successfulSteps: {type: integer}
            failedSteps: {type: integer}
            skippedSteps: {type: integer}
            retryCount: {type: integer}
            cacheHits: {type: integer}
            totalDurationMs: {type: number}
            criticalPathDurationMs: {type: number}
            optimizationGains: {type: number}
        steps: {type: array, items: {$ref: "#/components/schemas/StepResult"}}
    StepResult:
      type: object
      required: [id, status, attempts, durationMs, outputs, timedOut, cached]
      properties:
        id: {type: string}
        status: {$ref: "#/components/schemas/StepStatus"}
        attempts: {type: integer, minimum: 0}
        durationMs: {type: number}
        outputs: {type: object}
        timedOut: {type: boolean}
        cached: {type: boolean}
        error: {type: string}
        skipReason: {type: string}
        exitCode: {type: integer}
        startedAt: {type: string, format: date-time}
        finishedAt: {type: string, format: date-time}
    Attempt:
      type: object
      required: [stepID, attempt, status, startedAt]
      properties:
        stepID: {type: string}
        attempt: {type: integer, minimum: 1}
        status: {type: string, enum: [running, succeeded, failed, timedOut, cancelled, cached, interrupted]}
        startedAt: {type: string, format: date-time}
        finishedAt: {type: string, format: date-time}
        error: {type: string}
        exitCode: {type: integer}
        process:
          description: The process group the attempt started (recovery stops what is left of it before the next attempt).
          type: object
          required: [host, bootID, processGroup, startTicks]
          properties:
            host: {type: string}
            bootID: {type: string}
            processGroup: {type: integer}
            startTicks: {type: integer, minimum: 0}
"""#
}
