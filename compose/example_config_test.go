package compose_test

import (
	"context"
	"fmt"
	"log"
	"os"
	"path/filepath"

	"github.com/compose-spec/compose-go/v2/types"

	"github.com/dockhand/dockhand/compose"
)

// Print the project as docker compose config does: interpolated, in the
// long syntax, with the default network, and a literal $ escaped again.
// No engine is needed: Config only renders the loaded project.
func ExampleStack_Config() {
	dir, _ := os.MkdirTemp("", "compose-example")
	defer os.RemoveAll(dir)
	_ = os.WriteFile(filepath.Join(dir, "compose.yaml"), []byte(`
services:
  web:
    image: nginx:${NGINX_TAG:-alpine}
    ports: ["127.0.0.1:8080:80"]
    environment:
      PRICE: $$5
volumes:
  unused:
`), 0o644)
	ctx := context.Background()
	p, err := compose.Load(ctx, compose.WithWorkingDir(dir), compose.WithProjectName("shop"),
		compose.WithoutOSEnv(), compose.WithVariables("NGINX_TAG=1.27"))
	if err != nil {
		log.Fatal(err)
	}
	out, err := compose.New(nil, p).Config()
	if err != nil {
		log.Fatal(err)
	}
	fmt.Print(string(out))
	// Output:
	// name: shop
	// services:
	//   web:
	//     environment:
	//       PRICE: $$5
	//     image: nginx:1.27
	//     networks:
	//       default: null
	//     ports:
	//       - mode: ingress
	//         host_ip: 127.0.0.1
	//         target: 80
	//         published: "8080"
	//         protocol: tcp
	// networks:
	//   default:
	//     name: shop_default
}

// Render a project built in memory as JSON (docker compose config
// --format json).
func ExampleWithFormat() {
	p := &types.Project{
		Name: "tools",
		Services: types.Services{
			"cron": {Name: "cron", ContainerSpec: types.ContainerSpec{Image: "busybox:1", Command: types.ShellCommand{"crond", "-f"}}},
		},
	}
	out, err := compose.New(nil, p).Config(compose.WithFormat("json"))
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(string(out))
	// Output:
	// {
	//   "name": "tools",
	//   "services": {
	//     "cron": {
	//       "command": [
	//         "crond",
	//         "-f"
	//       ],
	//       "entrypoint": null,
	//       "image": "busybox:1"
	//     }
	//   }
	// }
}

// Enable a service its profile disables by naming it, as docker compose
// up debug does, for code that reads the enabled services only. No
// engine is needed.
func ExampleEnableServices() {
	dir, _ := os.MkdirTemp("", "compose-example")
	defer os.RemoveAll(dir)
	_ = os.WriteFile(filepath.Join(dir, "compose.yaml"), []byte(`
services:
  web:
    image: nginx:alpine
  debug:
    image: busybox
    profiles: [debug]
`), 0o644)
	p, err := compose.Load(context.Background(), compose.WithWorkingDir(dir), compose.WithProjectName("shop"), compose.WithoutOSEnv())
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(p.ServiceNames())
	on, err := compose.EnableServices(p, "debug")
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(on.ServiceNames(), on.Services["debug"].Image)
	// Output:
	// [web]
	// [debug web] busybox
}
